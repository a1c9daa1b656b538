#!/usr/bin/env bash
# Create .venv and install mambaic with the app, evaluation and test extras, CPU-only.
# Order matters: torch==2.13.0 first (the local CPU build; any other spec pulls CUDA packages),
# then CompressAI without its dependencies (it pins a torchvision whose CUDA build breaks CPU
# torch; mambaic imports it through a shim), then the project. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
$PIP install -q --disable-pip-version-check torch==2.13.0
$PIP install -q --disable-pip-version-check --no-deps compressai==1.2.8
$PIP install -q --disable-pip-version-check -e ".[gui,eval,test]"
.venv/bin/python -c "import torch, mambaic; assert not torch.version.cuda, 'a CUDA torch was installed'" 
echo "mambaic installed in .venv"
