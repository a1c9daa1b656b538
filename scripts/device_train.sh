#!/bin/sh
# One training call on a lent GPU machine (the device tool's `run`), from the repository root.
#
# Carry: .whl (cp312 wheels of compressai and pytorch-msssim; see docs/training.md) and .devdata
# (train/ from scripts/pack_training_set.py, optionally val/). When the machine is still warm from
# the previous call, the run in $RUN resumes with its optimiser state; on a fresh machine it starts
# from the shipped weights (the working tree carries them). It trains for $MINUTES, stops cleanly
# (SIGTERM: checkpoint + export), and leaves in $OUT the fp32 weights in three parts (each under the
# 16 MiB a returned file may have), the log and the model card. Join them here with
#   cat OUT/mambaic-lite-fp32.part-* > mambaic-lite-fp32.safetensors
set -eu
MINUTES=${MINUTES:-8}
RUN=${RUN:-/tmp/mambaic-run}
OUT=${OUT:?set OUT to the folder whose files come back}

if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/core${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

set --
[ -f "$RUN/checkpoint.safetensors" ] || set -- --init-weights resources/weights/mambaic-lite.safetensors
[ -d .devdata/val ] && set -- "$@" --val-dir .devdata/val --val-every "${VAL_EVERY:-2000}"
status=0
timeout -s TERM -k 120 "${MINUTES}m" python3 -m mambaic train .devdata/train --out "$RUN" \
    --model lite --device "${DEVICE:-cuda}" ${AMP---amp} --patch "${PATCH:-256}" \
    --batch-size "${BATCH:-8}" --lr "${LR:-1.5e-4}" --scales "${SCALES:-1,0.7,0.5,0.35}" \
    --detail-draws "${DRAWS:-3}" \
    --steps "${STEPS:-1000000}" --save-every 500 \
    "$@" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 124 ] || exit "$status"   # 124: stopped by the timer

split -n 3 -d "$RUN/mambaic-lite-fp32.safetensors" "$OUT/mambaic-lite-fp32.part-"
cp "$RUN/log.csv" "$RUN/model_card.json" "$OUT/"
[ -f "$RUN/val.csv" ] && cp "$RUN/val.csv" "$OUT/"
ls -l "$OUT"
