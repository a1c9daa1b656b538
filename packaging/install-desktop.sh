#!/bin/sh
# Install the MambaIC menu entry, the .mic file type and the icons for the current user.
# Same as `mambaic-gui --install-desktop`; uses the Python that has mambaic_gui installed.
exec "${PYTHON:-python3}" -m mambaic_gui --install-desktop "$@"
