"""Image → faces → emotions: the one call pages and the CLI use.

Conventions: images are BGR ``uint8`` H×W×3 (OpenCV order); boxes are :class:`~awsome_core.vision.detector.Box`
``(x, y, w, h)`` in pixels, framed like FER2013's crops; probabilities are dictionaries in
:data:`~awsome_core.emotions.EMOTIONS` order (angry, disgust, fear, happy, sad, surprise, neutral).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from awsome_core.emotions import EMOTIONS, to_probability_dict, top_emotion
from awsome_core.vision.classifier import EmotionClassifier, TtaChoice
from awsome_core.vision.detector import Box, detect_faces

logger = logging.getLogger(__name__)

FACE_SIZE = 48
MAX_RESIDUAL_ROLL = 10.0  # degrees of head roll left in a crop (FER2013 faces are not levelled; training saw ±18°)


@dataclass(frozen=True)
class FaceEmotion:
    """One face: its :class:`Box` and 7 probabilities ``{emotion: p}`` in EMOTIONS order (they sum to 1)."""

    box: Box
    probabilities: dict[str, float]

    @property
    def top_emotion(self) -> str:
        """The most probable emotion."""
        return top_emotion(self.probabilities)

    @property
    def confidence(self) -> float:
        """Probability of :attr:`top_emotion`."""
        return self.probabilities[self.top_emotion]

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly ``{box, emotion, confidence, probabilities}``."""
        return {
            "box": self.box.as_dict(),
            "emotion": self.top_emotion,
            "confidence": round(self.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
        }


def crop_face(image_bgr: np.ndarray, box: Box) -> np.ndarray:
    """The face in *box* as a 48×48 ``uint8`` grayscale crop, the way the model was trained.

    Rolled heads are turned back so that at most ``MAX_RESIDUAL_ROLL`` degrees of roll remain (continuous
    in the angle, so a live reading does not jump); pixels outside the image repeat the border.
    """
    gray = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    roll = box.angle - math.copysign(min(abs(box.angle), MAX_RESIDUAL_ROLL), box.angle)
    cx, cy = box.center
    scale = FACE_SIZE / max(box.w, 1)
    if scale < 0.5:  # shrink in steps first so that a large face is averaged, not point-sampled
        factor = 2 ** int(math.log2(1 / scale))
        gray = cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
        cx, cy, scale = cx / factor, cy / factor, scale * factor
    matrix = cv2.getRotationMatrix2D((cx, cy), -roll, scale)
    matrix[:, 2] += np.array((FACE_SIZE / 2 - cx, FACE_SIZE / 2 - cy))
    return cv2.warpAffine(gray, matrix, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def analyze_image(
    image_bgr: np.ndarray,
    *,
    classifier: EmotionClassifier,
    max_faces: int = 10,
    small_faces: bool = True,
    boxes: list[Box] | None = None,
    trusted: Sequence[Box] = (),
    mirror: bool = False,
    tta: TtaChoice | None = None,
) -> list[FaceEmotion]:
    """Detect faces (largest first, at most *max_faces*) and classify each one.

    :param small_faces: scan for small faces too (photos); pass ``False`` for live video frames.
    :param boxes: skip detection and classify these boxes instead.
    :param trusted: faces confirmed on a video's previous analysed frame (see :func:`detect_faces`).
    :param mirror: classify the faces' mirror images (live video alternates, see ``LiveProcessor``).
    :param tta: the classifier's TTA mode for this call (None: its own).
    :return: one :class:`FaceEmotion` per face; empty when no face is found.
    """
    if boxes is None:
        boxes = detect_faces(image_bgr, small_faces=small_faces, trusted=trusted)
    boxes = sorted(boxes, key=lambda b: -b.area)[:max_faces]
    if not boxes:
        return []
    faces = np.stack([crop_face(image_bgr, b) for b in boxes])
    if mirror:
        faces = np.ascontiguousarray(faces[:, :, ::-1])
    probs = classifier.predict(faces, tta=tta)
    logger.debug("classified %d face(s)", len(boxes))
    return [FaceEmotion(b, to_probability_dict(p)) for b, p in zip(boxes, probs, strict=True)]


__all__ = ["EMOTIONS", "FaceEmotion", "analyze_image", "crop_face"]
