"""The photo entry point: uploaded bytes → decoded image and the emotions of every face in it.

Used by the Photo page (upload and camera snapshot) and by ``awsome predict``. Every failure is an
:class:`~awsome_core.errors.AwsomeError` with a message a user can read (:class:`InvalidImage` for bytes we
cannot or will not decode); nothing else escapes, and time and memory are bounded by
:func:`~awsome_core.vision.image_io.decode_image`'s limits (``tests/integration/test_fuzz_images.py``
throws 10,000+ hostile byte strings at it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import InvalidImage
from awsome_core.vision.analyze import FaceEmotion, analyze_image
from awsome_core.vision.classifier import EmotionClassifier
from awsome_core.vision.image_io import decode_image

logger = logging.getLogger(__name__)

NO_FACE_TIPS = (
    "We could not find a face in this picture. Tips: face the camera with your whole face in view, "
    "use even light from the front, and avoid strong backlight, sunglasses or masks."
)


@dataclass(frozen=True)
class PhotoAnalysis:
    """``image_bgr`` is the decoded (EXIF-rotated, possibly downscaled) picture; ``faces`` largest first."""

    image_bgr: np.ndarray
    faces: tuple[FaceEmotion, ...]


def analyze_photo(data: bytes, *, classifier: EmotionClassifier, max_bytes: int, max_faces: int = 10) -> PhotoAnalysis:
    """Decode *data* (JPEG, PNG, WebP, ...) and classify up to *max_faces* faces; raise InvalidImage."""
    image = decode_image(data, max_bytes=max_bytes)
    try:
        faces = analyze_image(image, classifier=classifier, max_faces=max_faces, small_faces=True)
    except (ValueError, MemoryError, cv2.error) as e:  # e.g. degenerate sizes the detector cannot handle
        logger.warning("analysis of a %s image failed: %s", image.shape, e)
        raise InvalidImage("This picture could not be analysed; please try another one.") from e
    return PhotoAnalysis(image, tuple(faces))


def mean_probabilities(faces: Sequence[FaceEmotion]) -> dict[str, float]:
    """The group's reading: the mean of the faces' probabilities (still sums to 1)."""
    if not faces:
        raise ValueError("no faces")
    return {e: float(np.mean([f.probabilities[e] for f in faces])) for e in EMOTIONS}
