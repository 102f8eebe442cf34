"""The photo entry point: uploaded bytes → decoded image and the emotions of every face in it.

Used by the Photo page (upload and camera snapshot) and by ``awsome predict``. Every failure is an
:class:`~awsome_core.errors.AwsomeError` with a message a user can read (:class:`InvalidImage` for bytes we
cannot or will not decode); nothing else escapes, and time and memory are bounded by
:func:`~awsome_core.vision.image_io.decode_image`'s limits (``tests/integration/test_fuzz_images.py``
throws 10,000+ hostile byte strings at it).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import InvalidImage
from awsome_core.vision.analyze import FaceEmotion, analyze_image
from awsome_core.vision.classifier import EmotionClassifier
from awsome_core.vision.detector import Box
from awsome_core.vision.image_io import decode_image
from awsome_core.vision.overlay import draw_faces

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


DISPLAY_MAX_SIDE = 1024  # px: the Photo page's picture column is under 900 px wide even at 1920 px
DISPLAY_JPEG_QUALITY = 85


def annotated_jpeg(
    image_bgr: np.ndarray,
    faces: Sequence[FaceEmotion],
    *,
    max_side: int = DISPLAY_MAX_SIDE,
    quality: int = DISPLAY_JPEG_QUALITY,
) -> bytes:
    """The picture to show: reduced so that its long side is at most *max_side*, each face boxed and labelled
    (:func:`~awsome_core.vision.overlay.draw_faces`, boxes scaled with it), encoded once as JPEG.

    For the page to cache and send as is, instead of the full decoded image re-encoded on every rerun.
    """
    scale = min(1.0, max_side / max(image_bgr.shape[:2]))
    if scale < 1.0:
        size = (max(1, round(image_bgr.shape[1] * scale)), max(1, round(image_bgr.shape[0] * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
        faces = [dataclasses.replace(f, box=_scaled(f.box, scale)) for f in faces]
    ok, encoded = cv2.imencode(".jpg", draw_faces(image_bgr, faces), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any non-empty uint8 BGR image
        raise InvalidImage("This picture could not be shown; please try another one.")
    return encoded.tobytes()


def _scaled(box: Box, scale: float) -> Box:
    return dataclasses.replace(
        box, x=round(box.x * scale), y=round(box.y * scale), w=round(box.w * scale), h=round(box.h * scale)
    )


def mean_probabilities(faces: Sequence[FaceEmotion]) -> dict[str, float]:
    """The group's reading: the mean of the faces' probabilities (still sums to 1)."""
    if not faces:
        raise ValueError("no faces")
    return {e: float(np.mean([f.probabilities[e] for f in faces])) for e in EMOTIONS}
