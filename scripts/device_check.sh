#!/bin/sh
# One prepared call for a lent GPU machine (the device tool's `run`), from the repository root:
#   carry: [".whl", ".devdata"]   command: OUT=$OUT sh scripts/device_check.sh   timeout_s: 600
# In order: install the carried wheels; run the CUDA tests; measure the scan backends, the
# encode/decode latency of lite and paper at 768x512 and cross-device decoding (CPU⇄GPU); then
# train for the time left with scripts/device_train.sh and bring the weights back. A failing step
# is recorded and the next one still runs; $OUT/report.md (and report.json) say how each went.
# .whl needs cp312 wheels of compressai, pytorch-msssim and pytest with its pure-Python
# dependencies (pluggy, iniconfig, packaging); a mamba-ssm wheel there is used when it imports.
#
# DRY_RUN=1 OUT=<dir> sh scripts/device_check.sh rehearses every step on the CPU at tiny sizes
# (tiny model, small image, a few training steps); tests/test_device_check.py runs it.
set -u
OUT=${OUT:?set OUT to the folder whose files come back}
DRY_RUN=${DRY_RUN:-0}
BUDGET_S=${BUDGET_S:-570}   # the whole call, under the 600 s a command may run
PYTHON=${PYTHON:-python3}
START=$(date +%s)
mkdir -p "$OUT/steps"
export PYTHONPATH="$PWD/core:$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "$DRY_RUN" = 1 ]; then DRY=--dry-run; else DRY=; fi

# step NAME COMMAND...: run it with its output in steps/NAME.log and its exit status in NAME.rc.
step() {
    name=$1; shift
    echo "== $name ($(($(date +%s) - START)) s)"
    "$@" >"$OUT/steps/$name.log" 2>&1
    echo $? >"$OUT/steps/$name.rc"
    tail -n 3 "$OUT/steps/$name.log"
}

install() {
    if [ -z "$DRY" ] && ls .whl/*.whl >/dev/null 2>&1; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl || return
        export PYTHONPATH="$PYTHONPATH:/tmp/site"
    fi
    command -v nvidia-smi >/dev/null && nvidia-smi -L
    "$PYTHON" -c "import torch, pytest, mambaic._compressai
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())
from mambaic.ops.selective_scan import available_backends; print('scan backends', available_backends())"
}

cuda_tests() {
    "$PYTHON" -m pytest -q -p no:cacheprovider -m cuda tests/test_device_paths.py &&
        "$PYTHON" -m pytest -q -p no:cacheprovider -k cuda tests/test_selective_scan.py
}

train() {
    if [ -n "$DRY" ]; then
        "$PYTHON" scripts/device_check.py photos "$OUT/devdata" &&
            MODEL=tiny DATA="$OUT/devdata" RUN="$OUT/run" DEVICE=cpu AMP= PATCH=64 BATCH=2 \
                SCALES=1 DRAWS=1 STEPS=3 VAL_EVERY=2 MINUTES=2 PYTHON="$PYTHON" OUT="$OUT" SKIP_INSTALL=1 \
                sh scripts/device_train.sh && rm -r "$OUT/run" "$OUT/devdata"
        return
    fi
    left=$((BUDGET_S - ($(date +%s) - START) - 150))   # 150 s: SIGTERM, checkpoint, export, split
    if [ "$left" -lt 60 ]; then echo "no time left to train ($left s)"; return 1; fi
    MINUTES=$(awk "BEGIN { printf \"%.2f\", $left / 60 }") PYTHON="$PYTHON" OUT="$OUT" SKIP_INSTALL=1 \
        sh scripts/device_train.sh
}

step install install
step cuda_tests cuda_tests
step scan "$PYTHON" scripts/device_check.py scan "$OUT" $DRY
step latency "$PYTHON" scripts/device_check.py latency "$OUT" $DRY
step crossdevice "$PYTHON" scripts/device_check.py crossdevice "$OUT" $DRY
step train train
"$PYTHON" scripts/device_check.py report "$OUT"
