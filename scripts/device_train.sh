#!/usr/bin/env bash
# Train several variants of the emotion CNN side by side on a lent GPU (Keras 3 on JAX).
#
# The device machine has JAX but no TensorFlow, so the same awsome_core/training/train.py runs there with
# KERAS_BACKEND=jax; the .keras checkpoints it writes load unchanged under TensorFlow for `awsome export`.
# The GPU machine cannot reach ../shared or PyPI, so the caller carries (in ignored folders):
#   .whl/      keras, namex, optree wheels (pip download ... --python-version 3.12, see the device README)
#   .devdata/  fer_x.xz (Training then PublicTest pixels, uint8, xz) and labels.npz (y and FERPlus votes),
#              packed from ../shared by scripts/device_pack.py, deleted after the session, never committed.
#
# Usage on the device machine, from the repository root:
#   bash scripts/device_train.sh MINUTES NAME:"ARGS" [NAME:"ARGS" ...]
# Starts each NAME that is not already running or finished (setsid, so runs outlive one call while the
# machine stays warm), reports the last epoch of every run each minute for MINUTES, then leaves in $OUT:
# logs.tgz (every run's log.jsonl, config.json, state.json, stdout) and the best two runs' backbones
# (<name>.keras split in 15 MB parts: <name>.keras.part-aa, -ab; `cat` them back together).
set -u
MINUTES=$1
shift
RUNS=/tmp/runs
mkdir -p "$RUNS" "$OUT"

if [ ! -d /tmp/site/keras ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax XLA_PYTHON_CLIENT_MEM_FRACTION=0.15 PYTHONUNBUFFERED=1

if [ ! -f /tmp/fer/fer2013_val.npz ]; then
    mkdir -p /tmp/fer
    xz -d -T0 -c .devdata/fer_x.xz > /tmp/fer/x.raw || exit 1
    python3 - <<'EOF' || exit 1
import numpy as np
labels = np.load(".devdata/labels.npz")
x = np.fromfile("/tmp/fer/x.raw", dtype=np.uint8).reshape(-1, 48, 48)
n = len(labels["y_train"])
for split, rows in (("train", slice(0, n)), ("val", slice(n, None))):
    np.savez(f"/tmp/fer/fer2013_{split}.npz", x=x[rows], y=labels[f"y_{split}"], ferplus_votes=labels[f"votes_{split}"])
print("data:", x.shape)
EOF
fi
python3 -c "import jax; print(jax.devices())"
nvidia-smi --query-gpu=name,memory.used,memory.total,utilization.gpu --format=csv,noheader

for spec in "$@"; do
    name=${spec%%:*}
    args=${spec#*:}
    if [ -f "$RUNS/$name.pid" ] && kill -0 "$(cat "$RUNS/$name.pid")" 2>/dev/null; then
        echo "$name: running"
        continue
    fi
    # shellcheck disable=SC2086  # ARGS are words on purpose
    setsid nohup python3 -m awsome_core.training.train --data-dir /tmp/fer --out "$RUNS/$name" $args \
        >> "$RUNS/$name.out" 2>&1 < /dev/null &
    echo $! > "$RUNS/$name.pid"
    echo "$name: started ($args)"
done

report() {
    for pidfile in "$RUNS"/*.pid; do
        name=$(basename "$pidfile" .pid)
        state=done
        kill -0 "$(cat "$pidfile")" 2>/dev/null && state=running
        last=$(tail -n 1 "$RUNS/$name/log.jsonl" 2>/dev/null | cut -c1-150)
        best=$(cat "$RUNS/$name/state.json" 2>/dev/null)
        echo "$(date +%T) $name [$state] $last | $best"
    done
}

end=$(($(date +%s) + MINUTES * 60))
while [ "$(date +%s)" -lt "$end" ]; do
    sleep 60
    report
    alive=0
    for pidfile in "$RUNS"/*.pid; do kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
done

tar czf "$OUT/logs.tgz" -C "$RUNS" --exclude='*.keras' . 2>/dev/null
JAX_PLATFORMS=cpu python3 - <<'EOF'
import json, os, pathlib, subprocess
import keras
runs = pathlib.Path("/tmp/runs")
scored = []
for state in runs.glob("*/state.json"):
    s = json.loads(state.read_text())
    if (state.parent / "best.keras").exists():
        scored.append((s.get("best_acc", 0), state.parent.name))
out = pathlib.Path(os.environ["OUT"])
for acc, name in sorted(scored, reverse=True)[:2]:
    model = keras.saving.load_model(runs / name / "best.keras", compile=False)
    target = out / f"{name}.keras"
    model.get_layer("awsome_fer").save(target)
    subprocess.run(["split", "-b", "15m", str(target), f"{target}.part-"], check=True)
    target.unlink()
    print(f"returned {name}: best {acc:.4f}")
EOF
ls -la "$OUT"
report
