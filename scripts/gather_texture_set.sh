#!/usr/bin/env bash
# The textured held-out evaluation set: OUTDIR/*.png, eight photos rich in fine texture (fur, hair,
# foliage, grass, brick, fabric, painted lettering, windows) that no training run may use.
# The 8-photo set of gather_photos.sh is smoother than standard test content and hid how the codec
# fails on texture; judge every change on both sets.
# Sources (packages are only unpacked, never installed), licence files copied beside the images:
#   Debian opencv-doc: baboon, graf1 (graffiti), building, chicky_512, aloeL (fabric backdrop)
#   PyPI scipy 1.9.3: misc/face.dat (raccoon in palm leaves)
#   PyPI scikit-image 0.26.0: brick, grass (grey textures, stored as RGB)
# Usage: gather_texture_set.sh OUTDIR   (needs: apt lists updated, pip, unzip, python3 with Pillow+numpy)
set -euo pipefail
OUT=$(realpath -m "${1:-data/photos/texture}")
PY=${PYTHON:-python3}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT/licences"

. "$(dirname "$0")/opencv_doc.sh"
unpack_opencv_doc "$T"
pip download -q --no-deps -d "$T/whl" scipy==1.9.3 scikit-image==0.26.0
unzip -q -j -o "$T"/whl/scipy-*.whl scipy/misc/face.dat 'scipy-1.9.3.dist-info/LICENSE.txt' -d "$T/sp"
unzip -q -j -o "$T"/whl/scikit_image-*.whl skimage/data/brick.png skimage/data/grass.png \
   'scikit_image-0.26.0.dist-info/LICENSE.txt' -d "$T/sk"
cp "$CV/copyright" "$OUT/licences/opencv-doc.copyright"
cp "$T/sp/LICENSE.txt" "$OUT/licences/scipy.LICENSE.txt"
cp "$T/sk/LICENSE.txt" "$OUT/licences/scikit-image.LICENSE.txt"

"$PY" - "$CV/examples/data" "$T" "$OUT" <<'EOF'
import bz2, sys
from pathlib import Path
import numpy as np
from PIL import Image

cv, tmp, out = (Path(a) for a in sys.argv[1:])
def save(im: Image.Image, name: str) -> None:
    im.convert("RGB").save(out / f"{name}.png")
for n in ("baboon.jpg", "graf1.png", "building.jpg", "chicky_512.png"):
    save(Image.open(cv / n), "opencv_" + Path(n).stem)
aloe = Image.open(cv / "aloeL.jpg")  # 1282x1110 JPEG: down-scaled to hide its block artefacts
save(aloe.resize((769, 666), Image.LANCZOS), "opencv_aloe")
face = np.frombuffer(bz2.decompress((tmp / "sp" / "face.dat").read_bytes()), np.uint8)
save(Image.fromarray(face.reshape(768, 1024, 3)), "scipy_raccoon")
for n in ("brick", "grass"):
    save(Image.open(tmp / "sk" / f"{n}.png"), "skimage_" + n)
EOF
echo "texture: $(ls "$OUT"/*.png | wc -l) photos in $OUT"
