#!/usr/bin/env bash
# Extra textured training photos from Debian's opencv-doc (examples/data), for a data experiment
# (docs/results/experiments.md, "Not tried yet"): building facades, fruit, a football pitch, a
# squirrel, toys, a painting. Never the held-out textured set's photos (gather_texture_set.sh)
# nor their pairs (graf3 is graf1 from another angle, aloeR the other view of aloeL): the script
# refuses any name in opencv_doc.sh's OPENCV_HELD_OUT.
# They are small JPEGs: `mambaic train --scales` and the loader's down-scaling hide their blocks
# only partly, so compare a run with them against one without before adopting them.
# Usage: gather_opencv_train.sh OUTDIR   (needs: apt lists updated, python3 with Pillow)
set -euo pipefail
OUT=$(realpath -m "${1:-data/photos/train_opencv}")
PY=${PYTHON:-python3}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT/licences"
. "$(dirname "$0")/opencv_doc.sh"
unpack_opencv_doc "$T"
cp "$CV/copyright" "$OUT/licences/opencv-doc.copyright"
"$PY" - "$CV/examples/data" "$OUT" "$OPENCV_HELD_OUT" <<'PYEOF'
import sys
from pathlib import Path
from PIL import Image

src, out = (Path(a) for a in sys.argv[1:3])
held_out = set(sys.argv[3].split())
names = ("leuvenA.jpg", "leuvenB.jpg", "aero1.jpg", "aero3.jpg", "board.jpg", "ela_original.jpg",
         "fruits.jpg", "messi5.jpg", "squirrel_cls.jpg", "rubberwhale1.png", "starry_night.jpg",
         "smarties.png", "home.jpg", "orange.jpg", "apple.jpg", "butterfly.jpg")  # not pic2/pic4: synthetic noise
if held_out & set(names):
    sys.exit(f"refusing held-out evaluation photos: {sorted(held_out & set(names))}")
for n in names:
    Image.open(src / n).convert("RGB").save(out / f"opencv_{Path(n).stem}.png")
print(f"{len(names)} photos in {out}")
PYEOF
