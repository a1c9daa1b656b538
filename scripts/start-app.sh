#!/usr/bin/env bash
# Start the desktop app; where no display can be opened, run the command-line demo instead.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/mambaic-gui "$@"
fi
echo "No display found: running the command-line demo instead (mambaic demo)." >&2
exec .venv/bin/mambaic demo "$@"
