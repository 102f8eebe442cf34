#!/usr/bin/env bash
# Issue 18 on a lent GPU (Keras 3 on JAX): train diverse ensemble members, score their ensemble on PublicTest,
# distil it into one student; then, on the CPU machine, scripts/device_finish.sh exports the student to the
# int8 TFLite serving model and evaluates it (the GPU machine has no TensorFlow, so no TFLite converter).
#
# Usage on the device machine, from the repository root, carrying .whl and .devdata (scripts/device_setup.sh):
#   bash scripts/device_distill.sh MINUTES [MEMBER_EPOCHS] [STUDENT_EPOCHS]
# Each call works for at most MINUTES and can be repeated with the same arguments: runs are started detached
# (setsid) and outlive a call while the machine stays warm; finished phases are skipped. Phases:
#   1. four members side by side (SGDR, cycle ends at 10/30/70/150 epochs: use one of those), each different
#      in more than its seed: wide, deep (3 convs per block), wide-mix (mixup + cutmix), robust (tighter
#      crops up to 1.4x zoom, FERPlus weight 0.5); the committed models/training/wide64-swa is a fifth member;
#   2. `awsome ensemble evaluate` (plain, flip TTA, central-80% re-crop) -> ensemble.json, and the members'
#      soft targets on Training (flip TTA) -> teacher.npz;
#   3. the student: the served network (models/training/wide64-swa, epoch 166) warm-started and trained on for
#      STUDENT_EPOCHS more with the teacher's soft targets, preset robust's crops (same shape as wide, so the same
#      serving cost) and weight averaging from its first epoch (constant learning rate 0.003), so its swa.keras
#      is the mean of the distilled epochs only.
# Leaves in $OUT: logs.tgz (every run's config/state/log, ensemble.json/.txt, teacher.npz, stdout) and, once the
# student is done, student_swa.keras.part-* and student_best.keras.part-* (backbones in 15 MB parts).
set -u
MINUTES=${1:-9}
ME=${2:-70}
SE=${3:-40}
# shellcheck source=scripts/device_setup.sh
source scripts/device_setup.sh
deadline=$(($(date +%s) + MINUTES * 60 - 45)) # leave time to pack $OUT
MEMBERS=(m_wide m_deep m_mix m_robust)
TEACHER="distill_temperature=2.0 distill_alpha=0.7"

finished() { [ -f "$RUNS/$1/state.json" ] && python3 -c "import json,sys; sys.exit(json.load(open('$RUNS/$1/state.json'))['epoch'] < $2)"; }
wait_for() { # wait_for NAME...: until none of them runs or the deadline
    while running "$@" && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 30
        report
    done
}

finished m_wide "$ME" || start_run m_wide --config wide --epochs "$ME" --set seed=11
finished m_deep "$ME" || start_run m_deep --config deep --epochs "$ME" --set seed=12
finished m_mix "$ME" || start_run m_mix --config wide-mix --epochs "$ME" --set seed=13
finished m_robust "$ME" || start_run m_robust --config robust --epochs "$ME" --set seed=14
wait_for "${MEMBERS[@]}"

members_done=1
for m in "${MEMBERS[@]}"; do finished "$m" "$ME" || members_done=0; done
if [ $members_done = 1 ] && [ ! -f "$RUNS/teacher.npz" ]; then
    member_dirs=("${MEMBERS[@]/#/$RUNS/}" models/training/wide64-swa)
    XLA_PYTHON_CLIENT_MEM_FRACTION=0.5 python3 -m awsome_core.cli ensemble evaluate --members "${member_dirs[@]}" \
        --data "$FER/fer2013_val.npz" --tta --recrop 0.8 --json "$RUNS/ensemble.json" \
        --hardware "1× NVIDIA H200, Keras on JAX, ${#MEMBERS[@]} runs sharing the GPU, $ME epochs each; wide64-swa: see its own card" \
        | tee "$RUNS/ensemble.txt"
    XLA_PYTHON_CLIENT_MEM_FRACTION=0.5 python3 -m awsome_core.cli ensemble soft-targets --members "${member_dirs[@]}" \
        --data "$FER/fer2013_train.npz" --out "$RUNS/teacher.partial.npz" --tta flip &&
        mv "$RUNS/teacher.partial.npz" "$RUNS/teacher.npz"
fi
WARM_EPOCH=166 # models/training/wide64-swa/state.json
SE_END=$((WARM_EPOCH + SE))
if [ -f "$RUNS/teacher.npz" ] && ! finished student "$SE_END"; then
    if [ ! -d "$RUNS/warm" ]; then # the served backbone as best.keras, its averaging forgotten
        cp -r models/training/wide64-swa "$RUNS/warm.partial"
        mv "$RUNS/warm.partial/swa.keras" "$RUNS/warm.partial/best.keras"
        python3 -c "import json,sys; p=sys.argv[1]; s=json.load(open(p)); json.dump({'epoch': s['epoch'], 'best_acc': 0.0, 'seconds': s['seconds']}, open(p, 'w'))" "$RUNS/warm.partial/state.json"
        mv "$RUNS/warm.partial" "$RUNS/warm"
    fi
    # shellcheck disable=SC2086  # TEACHER holds words on purpose
    XLA_PYTHON_CLIENT_MEM_FRACTION=0.5 start_run student --config robust --resume-from "$RUNS/warm" --epochs "$SE_END" \
        --set seed=21 --set swa_start=$WARM_EPOCH --set swa_lr=0.003 --teacher "$RUNS/teacher.npz" \
        $(printf -- '--set %s ' $TEACHER)
fi
wait_for student

tar czf "$OUT/logs.tgz" -C "$RUNS" --exclude='*.keras' --exclude='*.partial.npz' . 2>/dev/null  # teacher.npz: ~4 MB
if finished student "$SE_END"; then
    JAX_PLATFORMS=cpu RUNS=$RUNS python3 - <<'EOF'
import os, pathlib, subprocess
import keras
runs, out = pathlib.Path(os.environ["RUNS"]), pathlib.Path(os.environ["OUT"])
for name in ("swa", "best"):
    model = keras.saving.load_model(runs / "student" / f"{name}.keras", compile=False)
    if any(layer.name == "awsome_fer" for layer in model.layers):
        model = model.get_layer("awsome_fer")  # best.keras is the training model; swa.keras the backbone
    target = out / f"student_{name}.keras"
    model.save(target)
    subprocess.run(["split", "-b", "15m", str(target), f"{target}.part-"], check=True)
    target.unlink()
EOF
fi
ls -la "$OUT"
report
cat "$RUNS/ensemble.txt" 2>/dev/null | head -n 3
