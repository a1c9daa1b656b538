# Sourced by gather_texture_set.sh and gather_opencv_train.sh: Debian's opencv-doc is unpacked
# (never installed) the same way for both, and the photos the textured held-out set takes from it,
# with their stereo/viewpoint pairs, are named once so no training script can pick them.
OPENCV_HELD_OUT="baboon.jpg graf1.png graf3.png building.jpg chicky_512.png aloeL.jpg aloeR.jpg"

# unpack_opencv_doc TMPDIR: download and unpack opencv-doc there; sets CV to its doc folder.
unpack_opencv_doc() {
  (cd "$1" && apt-get download opencv-doc >/dev/null)
  dpkg-deb -x "$1"/opencv-doc_*.deb "$1/cv"
  CV=$1/cv/usr/share/doc/opencv-doc
}
