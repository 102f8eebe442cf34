"""Second-stage check of a detector box: is it still a face when looked at again, levelled and close up?

BlazeFace boxes that are not faces (a logo, a colour wheel, a star field, the edge of a sharpener) come from
one pass over a whole image or tile, where the object is a few anchor cells wide. A real face survives a
second look: the box's neighbourhood (a square of ``CONTEXTS[0]`` times the box side, turned so that the face
is upright), run again through the short-range model (about 1 ms on such a crop, best on close-ups), gives a
box at the same place and of the same size with a high score. A box is kept as soon as one look scores at
least :data:`MIN_SCORE`; a doubtful one gets the other, wider and tighter, neighbourhoods of
:data:`CONTEXTS` (a tight or blurred face can score low in one of them, an object scores low in all). The
full-range model was measured as the second look too: it scored real close-ups 0 as often as objects, so it
is not used. ``scripts/bench_detection.py`` prints recall and precision with and without this check on real
photos with and without faces (``--boxes`` prints each box's looks).

Images follow :mod:`awsome_core.vision.detector`'s conventions (BGR ``uint8``, boxes ``(x, y, w, h)``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np

if TYPE_CHECKING:  # the detector calls this module: no import of it at run time
    from awsome_core.vision.detector import Box, FaceDetector

logger = logging.getLogger(__name__)

#: Neighbourhood sides, in box sides, in the order they are tried (2.0: half a box side around it).
CONTEXTS: Final = (2.0, 2.5, 1.5)
LOOK_MIN_SCORE: Final = 0.3  # re-detections below this are not considered at all
#: Short-range score on a close-up that confirms a face. On the bench's set (scikit-image's photos and its
#: LFW subset) real faces' best look scored ≥ 0.73 and false boxes' ≤ 0.69.
MIN_SCORE: Final = 0.71
MAX_CENTRE_SHIFT: Final = 0.3  # a re-detection's centre within this share of the box side of the centre
SIZE_RANGE: Final = (0.5, 2.0)  # and its side within this factor of the box side
#: A box overlapping a face confirmed on the previous analysed video frame by this IoU is that face.
TRACK_IOU: Final = 0.5


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 to 1)."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter / max(1, a.area + b.area - inter)


def second_look(image_bgr: np.ndarray, box: Box, detector: FaceDetector, context: float = CONTEXTS[0]) -> float:
    """The best score *detector* gives a face at *box* when it sees only the box's levelled neighbourhood
    (a square of *context* box sides).

    Returns 0.0 when no re-detection lands on the box (centre and size as :data:`MAX_CENTRE_SHIFT` and
    :data:`SIZE_RANGE` say).
    """
    crop, side = _levelled_crop(image_bgr, box, context)
    centre = crop.shape[1] / 2
    best = 0.0
    for found in detector.detect(crop, min_score=LOOK_MIN_SCORE):
        fx, fy = found.center
        shift = max(abs(fx - centre), abs(fy - centre)) / side
        ratio = found.w / side
        if shift <= MAX_CENTRE_SHIFT and SIZE_RANGE[0] <= ratio <= SIZE_RANGE[1]:
            best = max(best, found.score)
    return best


def confirm_faces(
    image_bgr: np.ndarray, boxes: list[Box], *, near: FaceDetector, trusted: Sequence[Box] = ()
) -> list[Box]:
    """The boxes of *boxes* (order kept) that a second look by *near* (the short-range detector) confirms as
    faces (see the module docstring).

    :param trusted: faces confirmed a moment ago (a video's previous analysed frame): a box overlapping one
        of them by an IoU of at least :data:`TRACK_IOU` is that face, moved a little, and is kept without a
        second look (which costs as much as the detection itself). A box that was never confirmed is never
        trusted, so this changes nothing for a photo or a new object in view.
    """
    kept = []
    for box in boxes:
        if any(iou(box, t) >= TRACK_IOU for t in trusted):
            kept.append(box)
        elif any(second_look(image_bgr, box, near, context) >= MIN_SCORE for context in CONTEXTS):
            kept.append(box)
        else:
            logger.debug("second look rejected %s", box)
    return kept


def _levelled_crop(image_bgr: np.ndarray, box: Box, context: float) -> tuple[np.ndarray, float]:
    """The square ``context × side`` neighbourhood of *box*, rotated so that its roll is undone.

    Returns the crop and the box side in crop pixels. Pixels outside the image are black, as the detector's
    own letterbox padding is. Large boxes are shrunk so that the crop is at most 256 px (the detectors see
    at most 192 px anyway).
    """
    cx, cy = box.center
    out = max(16, round(context * box.w))
    scale = min(1.0, 256 / out)
    size = max(16, round(out * scale))
    matrix = cv2.getRotationMatrix2D((cx, cy), -box.angle, scale)
    matrix[:, 2] += np.array((size / 2 - cx, size / 2 - cy))
    crop = cv2.warpAffine(image_bgr, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return crop, box.w * scale
