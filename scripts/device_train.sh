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
# MODEL, DATA (the folder holding train/ and val/) and PYTHON exist so scripts/device_check.sh
# can rehearse this very script on a CPU with the tiny model (MINUTES may be fractional).
set -eu
MINUTES=${MINUTES:-8}
RUN=${RUN:-/tmp/mambaic-run}
MODEL=${MODEL:-lite}
DATA=${DATA:-.devdata}
PYTHON=${PYTHON:-python3}
OUT=${OUT:?set OUT to the folder whose files come back}

if [ -z "${SKIP_INSTALL:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then   # device_check.sh installed them
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/core${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

set --
INIT=resources/weights/mambaic-$MODEL.safetensors
[ -f "$RUN/checkpoint.safetensors" ] || [ ! -f "$INIT" ] || set -- --init-weights "$INIT"
[ -d "$DATA/val" ] && set -- "$@" --val-dir "$DATA/val" --val-every "${VAL_EVERY:-2000}"
status=0
timeout -s TERM -k 120 "${MINUTES}m" "$PYTHON" -m mambaic train "$DATA/train" --out "$RUN" \
    --model "$MODEL" --device "${DEVICE:-cuda}" ${AMP---amp} --patch "${PATCH:-256}" \
    --batch-size "${BATCH:-8}" --lr "${LR:-1.5e-4}" --scales "${SCALES:-1,0.7,0.5,0.35}" \
    --detail-draws "${DRAWS:-3}" \
    --steps "${STEPS:-1000000}" --save-every 500 \
    "$@" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 124 ] || exit "$status"   # 124: stopped by the timer

split -n 3 -d "$RUN/mambaic-$MODEL-fp32.safetensors" "$OUT/mambaic-$MODEL-fp32.part-"
cp "$RUN/log.csv" "$RUN/model_card.json" "$OUT/"
[ -f "$RUN/val.csv" ] && cp "$RUN/val.csv" "$OUT/"
ls -l "$OUT"
