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

from awsome_core.emotions import EMOTION_COLORS, EMOTIONS
from awsome_core.errors import InvalidImage
from awsome_core.vision.analyze import FaceEmotion, analyze_image
from awsome_core.vision.classifier import EmotionClassifier
from awsome_core.vision.detector import Box
from awsome_core.vision.image_io import decode_image
from awsome_core.vision.overlay import FONT, _text_colour, draw_faces, hex_to_bgr

logger = logging.getLogger(__name__)

NO_FACE_TIPS = (
    "We could not find a face in this picture. Tips: face the camera with your whole face in view, "
    "use even light from the front, and avoid strong backlight, sunglasses or masks."
)


@dataclass(frozen=True)
class PhotoAnalysis:
    """``image_bgr`` is the decoded (EXIF-rotated, possibly downscaled) picture; ``faces`` largest first. The
    Photo page and the API (its face ``index``) list them :func:`most_face_like_first`."""

    image_bgr: np.ndarray
    faces: tuple[FaceEmotion, ...]


def analyze_photo(data: bytes, *, classifier: EmotionClassifier, max_bytes: int, max_faces: int = 10) -> PhotoAnalysis:
    """Decode *data* (JPEG, PNG, WebP, ...) and classify up to *max_faces* faces; raise InvalidImage."""
    image = decode_image(data, max_bytes=max_bytes)
    try:
        faces = analyze_image(image, classifier=classifier, max_faces=max_faces, small_faces=True)
    except (MemoryError, cv2.error) as e:  # what a picture can do to OpenCV or the allocator
        logger.warning("analysis of a %s image failed: %s", image.shape, e)
        raise InvalidImage("This picture could not be analysed; please try another one.") from e
    except ValueError as e:
        # No picture is known to cause this (degenerate sizes such as 1×5000 analyse to no face): it is a bug,
        # logged with its traceback so that it shows (the load test counts ERROR lines), while the user still
        # gets a message and not a traceback. It once hid the Photo and Live classifiers' batch-size mix-up.
        logger.exception("analysis of a %s image raised", image.shape)
        raise InvalidImage("This picture could not be analysed; please try another one.") from e
    return PhotoAnalysis(image, tuple(faces))


#: A first-pass detector score from which a box counts as confidently a face when ordering: false boxes on
#: real photos scored 0.60–0.81 before the second look (issue #15), real faces mostly 0.85 and more.
CONFIDENT_SCORE = 0.8


def face_likeness(face: FaceEmotion) -> tuple[bool, float]:
    """How face-like a box is, for ordering: confident boxes (score ≥ :data:`CONFIDENT_SCORE`) before the
    others, then detector score × box area (a large sharp face before a small or doubtful one)."""
    return (face.box.score >= CONFIDENT_SCORE, face.box.score * face.box.area)


def most_face_like_first(faces: Sequence[FaceEmotion]) -> tuple[FaceEmotion, ...]:
    """*faces* ordered by :func:`face_likeness`, best first (ties keep their order): the Photo page numbers
    them in this order and preselects the first, so a doubtful box is never the one read by default."""
    return tuple(sorted(faces, key=face_likeness, reverse=True))


DISPLAY_MAX_SIDE = 1024  # px: the Photo page's picture column is under 900 px wide even at 1920 px
DISPLAY_JPEG_QUALITY = 85
BADGE_INSIDE = 2.5  # a box this many badge sides wide carries its number inside; a smaller one beside it


def annotated_jpeg(
    image_bgr: np.ndarray,
    faces: Sequence[FaceEmotion],
    *,
    max_side: int = DISPLAY_MAX_SIDE,
    quality: int = DISPLAY_JPEG_QUALITY,
) -> bytes:
    """The picture to show: reduced so that its long side is at most *max_side*, each face boxed and labelled
    (:func:`~awsome_core.vision.overlay.draw_faces`, boxes scaled with it), encoded once as JPEG.

    With more than one face, each box carries its number in *faces*' order, counted from 1
    (:func:`draw_numbers`): the page's face list says "Face 1" for the box labelled 1. For the page to
    cache and send as is, instead of the full decoded image re-encoded on every rerun.
    """
    scale = min(1.0, max_side / max(image_bgr.shape[:2]))
    if scale < 1.0:
        size = (max(1, round(image_bgr.shape[1] * scale)), max(1, round(image_bgr.shape[0] * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
        faces = [dataclasses.replace(f, box=_scaled(f.box, scale)) for f in faces]
    shown = draw_faces(image_bgr, faces)
    if len(faces) > 1:
        draw_numbers(shown, faces, inplace=True)
    ok, encoded = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any non-empty uint8 BGR image
        raise InvalidImage("This picture could not be shown; please try another one.")
    return encoded.tobytes()


def draw_numbers(image_bgr: np.ndarray, faces: Sequence[FaceEmotion], *, inplace: bool = False) -> np.ndarray:
    """Draw each face's number (1, 2, ...) in a square badge of the box's colour.

    The badge is sized from the picture (a sixteenth of its long side, so that it stays readable when a
    phone shows the picture 350 px wide). It sits inside the box's top-left corner when the box is at least
    :data:`BADGE_INSIDE` badges wide, else beside the box (left of it, or right where there is no room),
    so that it never covers a small face.
    """
    out = image_bgr if inplace else image_bgr.copy()
    height, width = out.shape[:2]
    side = max(16, round(max(height, width) / 16))
    for number, face in enumerate(faces, start=1):
        b, colour = face.box, hex_to_bgr(EMOTION_COLORS[face.top_emotion])
        if b.w >= BADGE_INSIDE * side:
            x0, y0 = b.x, b.y
        else:
            x0 = b.x - side - 2 if b.x - side - 2 >= 0 else b.x + b.w + 2
            y0 = b.y
        x0, y0 = min(max(0, x0), max(0, width - side)), min(max(0, y0), max(0, height - side))
        text = str(number)
        scale = side / 40 * (0.9 if len(text) == 1 else 0.65)
        weight = max(1, round(side / 16))
        (tw, th), _ = cv2.getTextSize(text, FONT, scale, weight)
        cv2.rectangle(out, (x0, y0), (x0 + side, y0 + side), colour, cv2.FILLED)
        cv2.rectangle(out, (x0, y0), (x0 + side, y0 + side), (0, 0, 0), 1, cv2.LINE_AA)
        origin = (x0 + (side - tw) // 2, y0 + (side + th) // 2)
        cv2.putText(out, text, origin, FONT, scale, _text_colour(colour), weight, cv2.LINE_AA)
    return out


def _scaled(box: Box, scale: float) -> Box:
    return dataclasses.replace(
        box, x=round(box.x * scale), y=round(box.y * scale), w=round(box.w * scale), h=round(box.h * scale)
    )


def mean_probabilities(faces: Sequence[FaceEmotion]) -> dict[str, float]:
    """The group's reading: the mean of the faces' probabilities (still sums to 1)."""
    if not faces:
        raise ValueError("no faces")
    return {e: float(np.mean([f.probabilities[e] for f in faces])) for e in EMOTIONS}
