#!/usr/bin/env bash
# The CPU half of scripts/device_distill.sh, run here (TensorFlow is installed here, not on the GPU machine):
# restore the student's run folder from what the device returned, export it to the int8 TFLite serving model,
# evaluate it on PublicTest (plain, flip and shift TTA, central-80% re-crop) and put the ensemble's figures beside
# it in its card. Writes runs/device/export/{emotion.tflite,emotion.json,README.md}; models/ is not touched.
#
#   bash scripts/device_finish.sh FILES_AT [HARDWARE] [swa|best]
# FILES_AT: the folder holding logs.tgz and student_*.keras.part-* (the device tool's files_at); the last argument
# picks the student's weight average (default) or its best epoch on PublicTest.
# Then, if the acceptance of issue 18 holds, serve it: copy the three files into models/, keep the student's
# backbone + config/state/log in models/training/<name>/, and run `awsome bench vision`.
set -euo pipefail
FROM=$1
HARDWARE=${2:-"1× NVIDIA H100 for epochs 1–150 and 2 CPU cores for 151–166 (wide64-swa), then 1× NVIDIA H200 (Keras 3 on JAX) for the distilled epochs"}
WHICH=${3:-swa}
DATA=${AWSOME_FER_DIR:-../shared/data/fer2013}
RUN=runs/device
mkdir -p "$RUN"
tar xzf "$FROM/logs.tgz" -C "$RUN"
cat "$FROM"/student_"$WHICH".keras.part-* > "$RUN/student/$WHICH.keras"
.venv/bin/awsome export --checkpoint "$RUN/student/$WHICH.keras" --out "$RUN/export" --data "$DATA/fer2013_val.npz" \
    --hardware "$HARDWARE"
.venv/bin/awsome evaluate --data "$DATA/fer2013_val.npz" --model "$RUN/export/emotion.tflite" --tta \
    --tta-mode flip shift --recrop 0.8 --update-card
.venv/bin/awsome ensemble add-to-card --json "$RUN/ensemble.json" --card "$RUN/export/emotion.json"
sed -n '/^## Evaluation/,/^| emotion/p;/^## Ensemble and student/,/^## Export/p' "$RUN/export/README.md"
