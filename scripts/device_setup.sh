#!/usr/bin/env bash
# Sourced by scripts/device_train.sh and scripts/device_distill.sh on a lent GPU machine (repository root):
# installs the carried Keras wheels into /tmp/site, unpacks the carried FER2013 into /tmp/fer, and exports
# PYTHONPATH / KERAS_BACKEND=jax. The machine has JAX but no TensorFlow and cannot reach ../shared or PyPI, so
# the caller carries (ignored folders):
#   .whl/      keras, namex, optree wheels (pip download ... --python-version 3.12, see the device README)
#   .devdata/  fer_x.xz (Training then PublicTest pixels, uint8, xz) and labels.npz (y and FERPlus votes),
#              packed from ../shared by scripts/device_pack.py, deleted after the session, never committed.
# AWSOME_DEVICE_FER / AWSOME_DEVICE_RUNS / KERAS_BACKEND may be set to rehearse a script on a CPU machine with
# a small FER-shaped set (no .whl needed there).
FER=${AWSOME_DEVICE_FER:-/tmp/fer}
RUNS=${AWSOME_DEVICE_RUNS:-/tmp/runs}
mkdir -p "$OUT" "$RUNS"
if [ -d .whl ] && [ ! -d /tmp/site/keras ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.15}

if [ ! -f "$FER/fer2013_val.npz" ]; then
    mkdir -p "$FER"
    xz -d -T0 -c .devdata/fer_x.xz > "$FER/x.raw" || exit 1
    FER=$FER python3 - <<'PY' || exit 1
import os
import numpy as np
fer = os.environ["FER"]
labels = np.load(".devdata/labels.npz")
x = np.fromfile(f"{fer}/x.raw", dtype=np.uint8).reshape(-1, 48, 48)
n = len(labels["y_train"])
for split, rows in (("train", slice(0, n)), ("val", slice(n, None))):
    np.savez(f"{fer}/fer2013_{split}.npz", x=x[rows], y=labels[f"y_{split}"], ferplus_votes=labels[f"votes_{split}"])
print("data:", x.shape)
PY
fi
if [ "$KERAS_BACKEND" = jax ]; then
    python3 -c "import jax; print(jax.devices())"
    nvidia-smi --query-gpu=name,memory.used,memory.total,utilization.gpu --format=csv,noheader
fi

# start_run NAME ARGS...: start `awsome train --out /tmp/runs/NAME ARGS` detached (setsid: it outlives this call
# while the machine stays warm) unless it is running already or finished.
start_run() {
    local name=$1
    shift
    if [ -f "$RUNS/$name.pid" ] && kill -0 "$(cat "$RUNS/$name.pid")" 2>/dev/null; then
        echo "$name: running"
        return
    fi
    setsid nohup python3 -m awsome_core.training.train --data-dir "$FER" --out "$RUNS/$name" "$@" \
        >> "$RUNS/$name.out" 2>&1 < /dev/null &
    echo $! > "$RUNS/$name.pid"
    echo "$name: started ($*)"
}

# report: the last epoch and state of every run.
report() {
    for pidfile in "$RUNS"/*.pid; do
        [ -f "$pidfile" ] || continue
        local name state=done
        name=$(basename "$pidfile" .pid)
        kill -0 "$(cat "$pidfile")" 2>/dev/null && state=running
        echo "$(date +%T) $name [$state] $(tail -n 1 "$RUNS/$name/log.jsonl" 2>/dev/null | cut -c1-150) | $(cat "$RUNS/$name/state.json" 2>/dev/null)"
    done
}

# running NAME...: true while any of the named runs is alive.
running() {
    local name
    for name in "$@"; do
        [ -f "$RUNS/$name.pid" ] && kill -0 "$(cat "$RUNS/$name.pid")" 2>/dev/null && return 0
    done
    return 1
}
