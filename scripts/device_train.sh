#!/usr/bin/env bash
# Train several variants of the emotion CNN side by side on a lent GPU (Keras 3 on JAX).
#
# The device machine has JAX but no TensorFlow, so the same awsome_core/training/train.py runs there with
# KERAS_BACKEND=jax; the .keras checkpoints it writes load unchanged under TensorFlow for `awsome export`.
# What the caller carries (.whl/, .devdata/) and the set-up: scripts/device_setup.sh. Distillation of an
# ensemble: scripts/device_distill.sh.
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
# shellcheck source=scripts/device_setup.sh
source scripts/device_setup.sh

for spec in "$@"; do
    name=${spec%%:*}
    # shellcheck disable=SC2086  # ARGS are words on purpose
    start_run "$name" ${spec#*:}
done

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
runs = pathlib.Path(os.environ.get("AWSOME_DEVICE_RUNS", "/tmp/runs"))
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
