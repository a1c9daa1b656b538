#!/usr/bin/env bash
# The whole test suite on CPU: the import contracts (Qt-free core and app logic, core layers), then pytest (GUI tests offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
