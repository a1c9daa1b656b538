#!/bin/sh
# Screenshot of the real app window on a virtual X display (Debian's xvfb and imagemagick).
# Usage: sh scripts/screenshot.sh IMAGE OUT.png [SECONDS]
# Opens IMAGE in mambaic-gui on a 1600x1000 screen, waits SECONDS (default 90: encode, decode and the
# rate-distortion panel's sweep must finish), then grabs the window (its default size on a fresh profile: 1440x900 at the top left).
set -eu
IMAGE=${1:?image to open}
OUT=${2:?png to write}
WAIT=${3:-90}
GUI=${MAMBAIC_GUI:-.venv/bin/mambaic-gui}
for tool in xvfb-run import; do
    command -v "$tool" >/dev/null || {
        echo "screenshot.sh: '$tool' is missing; install the virtual display and its Qt libraries:" >&2
        echo "  apt-get install -y xvfb xdotool imagemagick libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 libxcb-cursor0" >&2
        exit 1; }
done
PROFILE=$(mktemp -d)   # fresh settings: default window size, no remembered state
trap 'rm -rf "$PROFILE"' EXIT
XDG_CONFIG_HOME="$PROFILE" xvfb-run -a -s "-screen 0 1600x1000x24" sh -c "
    '$GUI' '$IMAGE' & app=\$!
    sleep $WAIT
    import -window root -crop 1440x900+0+0 +repage '$OUT.tmp.png' && mv '$OUT.tmp.png' '$OUT'
    kill \$app"
echo "wrote $OUT"
