#!/usr/bin/env bash
# Create .venv-fer/: a separate, git-ignored environment holding the `fer` library, used only by
# scripts/bench_live_vs_fer.py as the peer to beat (issue #5). Never imported by the app or the tests.
#
#   scripts/fer_env.sh        # create or complete .venv-fer/, then check that `FER(mtcnn=False)` loads
#   rm -rf .venv-fer          # remove it (nothing else refers to it)
#
# Why --no-deps: fer 25.10.3 declares torch, facenet-pytorch, moviepy and non-headless OpenCV, none of
# which `from fer.fer import FER` with its default (Haar) detector needs. We install exactly what that
# import needs instead (fer/fer.py and fer/utils.py; pandas, tqdm and moviepy are only for fer.classes.Video):
#   tensorflow-cpu (our pin)        fer's models: a quantized .tflite (default) and a Keras .hdf5; same range
#                                   as requirements.txt; brings numpy and requests, which fer.fer imports
#   opencv-python-headless<5        OpenCV 5 ships no Haar cascade files, fer's default face detector;
#                                   headless only: no GUI libraries (never plain opencv-python)
#   pillow                          fer/utils.py imports PIL at module level
#   setuptools<81                   fer.fer imports pkg_resources, which setuptools 81 removed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-fer"  # the path scripts/bench_live_vs_fer.py looks for
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
PIP_FLAGS=(-q --disable-pip-version-check)

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install "${PIP_FLAGS[@]}" --no-deps "fer==25.10.3"
echo "note: pip's complaint that fer requires torch, moviepy, opencv-contrib-python … is expected (--no-deps)" >&2
"$VENV/bin/pip" install "${PIP_FLAGS[@]}" \
    "tensorflow-cpu>=2.18,<2.22" \
    "opencv-python-headless>=4.10,<5" \
    "pillow>=11" \
    "setuptools<81"

# The check the benchmark relies on: the default (Haar) detector and the bundled models load offline.
TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" - <<'EOF'
import importlib.metadata as md
import os
import warnings

warnings.filterwarnings("ignore")  # pkg_resources deprecation notice
import cv2
from fer.fer import FER

for name in ("opencv-python", "opencv-contrib-python"):  # a second cv2 would shadow the headless one
    try:
        raise SystemExit(f"{name} {md.version(name)} is installed: remove it, keep opencv-python-headless only")
    except md.PackageNotFoundError:
        pass
assert int(cv2.__version__.split(".")[0]) < 5, cv2.__version__
assert os.path.isfile(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
FER(mtcnn=False)
print(f"fer environment ready in {__import__('sys').prefix}: FER(mtcnn=False) loads, OpenCV {cv2.__version__}")
EOF
