"""Second-stage check of a detector box: is it still a face when looked at again, levelled and close up?

BlazeFace boxes that are not faces (a logo, a colour wheel, a star field, the edge of a sharpener) come from
one pass over a whole image or tile, where the object is a few anchor cells wide. A real face survives a
second look: the box's neighbourhood (``CONTEXT`` times the box side, turned so that the face is upright),
run again through the short-range model (2 ms, best on close-ups), gives a box at the same place and of the
same size with a high score; when it does not, the full-range model (5 ms) gets the same crop. A box is
kept when either re-detection scores at least its model's bar (:data:`NEAR_MIN_SCORE`,
:data:`FAR_MIN_SCORE`). ``scripts/bench_detection.py`` prints recall and precision with and without this
check on real photos with and without faces.

Images follow :mod:`awsome_core.vision.detector`'s conventions (BGR ``uint8``, boxes ``(x, y, w, h)``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np

if TYPE_CHECKING:  # the detector calls this module: no import of it at run time
    from awsome_core.vision.detector import Box, FaceDetector

logger = logging.getLogger(__name__)

CONTEXT: Final = 2.0  # the second look sees the box and half a box side around it on each side
LOOK_MIN_SCORE: Final = 0.3  # re-detections below this are not considered at all
NEAR_MIN_SCORE: Final = 0.78  # short-range score on the close-up that confirms a face
FAR_MIN_SCORE: Final = 0.7  # full-range score on the close-up that confirms a face
MAX_CENTRE_SHIFT: Final = 0.3  # a re-detection's centre within this share of the box side of the centre
SIZE_RANGE: Final = (0.5, 2.0)  # and its side within this factor of the box side


def second_look(image_bgr: np.ndarray, box: Box, detector: FaceDetector) -> float:
    """The best score *detector* gives a face at *box* when it sees only the box's levelled neighbourhood.

    Returns 0.0 when no re-detection lands on the box (centre and size as :data:`MAX_CENTRE_SHIFT` and
    :data:`SIZE_RANGE` say).
    """
    crop, side = _levelled_crop(image_bgr, box)
    centre = crop.shape[1] / 2
    best = 0.0
    for found in detector.detect(crop, min_score=LOOK_MIN_SCORE):
        fx, fy = found.center
        shift = max(abs(fx - centre), abs(fy - centre)) / side
        ratio = found.w / side
        if shift <= MAX_CENTRE_SHIFT and SIZE_RANGE[0] <= ratio <= SIZE_RANGE[1]:
            best = max(best, found.score)
    return best


def confirm_faces(image_bgr: np.ndarray, boxes: list[Box], *, near: FaceDetector, far: FaceDetector) -> list[Box]:
    """The boxes of *boxes* (order kept) that a second look confirms as faces (see the module docstring)."""
    kept = []
    for box in boxes:
        if second_look(image_bgr, box, near) >= NEAR_MIN_SCORE or second_look(image_bgr, box, far) >= FAR_MIN_SCORE:
            kept.append(box)
        else:
            logger.debug("second look rejected %s", box)
    return kept


def _levelled_crop(image_bgr: np.ndarray, box: Box) -> tuple[np.ndarray, float]:
    """The square ``CONTEXT × side`` neighbourhood of *box*, rotated so that its roll is undone.

    Returns the crop and the box side in crop pixels. Pixels outside the image are black, as the detector's
    own letterbox padding is. Large boxes are shrunk so that the crop is at most 256 px (the detectors see
    at most 192 px anyway).
    """
    cx, cy = box.center
    out = max(16, round(CONTEXT * box.w))
    scale = min(1.0, 256 / out)
    size = max(16, round(out * scale))
    matrix = cv2.getRotationMatrix2D((cx, cy), -box.angle, scale)
    matrix[:, 2] += np.array((size / 2 - cx, size / 2 - cy))
    crop = cv2.warpAffine(image_bgr, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return crop, box.w * scale
