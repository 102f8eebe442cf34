"""``awsome predict IMAGE``: print the faces, boxes and emotion probabilities of a picture as JSON.

Run commands::

    awsome predict photo.jpg                       # the served model (AWSOME_MODEL_PATH)
    awsome predict photo.jpg --model models/emotion.tflite --tta none --max-faces 3   # one pass per face

Output (stdout, one JSON object)::

    {"image": "photo.jpg", "width": 640, "height": 480, "model_version": "fer-vgg-e57-1a2b3c4d",
     "faces": [{"box": {"x": 10, "y": 20, "w": 100, "h": 100, "score": 0.93, "angle": -4.0},
                "emotion": "happy", "confidence": 0.87, "probabilities": {"angry": 0.01, ...}}]}

Boxes are ``(x, y, w, h)`` in pixels of the decoded (EXIF-rotated, at most 1920 px) image; probabilities
are in EMOTIONS order. Faces are listed largest first. No face gives ``"faces": []`` and exit code 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from awsome_core.config import Settings
from awsome_core.errors import InvalidImage
from awsome_core.vision.classifier import TTA_MODES, EmotionClassifier
from awsome_core.vision.photo import analyze_photo

logger = logging.getLogger(__name__)


def predict_file(path: Path, *, classifier: EmotionClassifier, max_faces: int, max_bytes: int) -> dict[str, object]:
    """The JSON-ready result for one image file (any extension: the bytes decide). Raises AwsomeError only."""
    try:
        with Path(path).open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:  # refused before reading: never load a huge file into memory
                raise InvalidImage(f"{path} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.")
            data = file.read(max_bytes + 1)  # a device or pipe has no size: read one byte past the limit
    except OSError as e:
        raise InvalidImage(f"Cannot read {path}: {e.strerror or e}") from e
    result = analyze_photo(data, classifier=classifier, max_bytes=max_bytes, max_faces=max_faces)
    return {
        "image": str(path),
        "width": int(result.image_bgr.shape[1]),
        "height": int(result.image_bgr.shape[0]),
        "model_version": classifier.model_version,
        "faces": [face.as_dict() for face in result.faces],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="awsome predict", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("image", type=Path)
    parser.add_argument("--model", type=Path, default=None, help="TFLite model (default: AWSOME_MODEL_PATH)")
    parser.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default=None,
        choices=TTA_MODES,
        help="test-time augmentation (bare --tta: flip; default: what the model card serves for photos)",
    )
    parser.add_argument("--max-faces", type=int, default=10)
    args = parser.parse_args(argv)
    settings = Settings.load()
    classifier = EmotionClassifier.load(args.model or settings.model_path, tta=args.tta)
    result = predict_file(
        args.image, classifier=classifier, max_faces=args.max_faces, max_bytes=settings.max_upload_mb * 1024 * 1024
    )
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0
