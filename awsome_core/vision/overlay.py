"""Draw face boxes, labels and probability bars on BGR images (photos and live video frames).

Images are BGR ``uint8`` H×W×3; colours come from :data:`awsome_core.emotions.EMOTION_COLORS` so the
overlay matches the app's charts. Both functions return a new image unless ``inplace=True`` (the live
video callback draws in place to save a copy per frame).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from awsome_core.emotions import EMOTION_COLORS, EMOTIONS
from awsome_core.vision.analyze import FaceEmotion

logger = logging.getLogger(__name__)

FONT = cv2.FONT_HERSHEY_SIMPLEX


def hex_to_bgr(color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` → ``(b, g, r)``."""
    value = color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)


def draw_faces(image_bgr: np.ndarray, faces: Sequence[FaceEmotion], *, inplace: bool = False) -> np.ndarray:
    """Draw each face's box in its top emotion's colour with a label such as ``happy 87%``."""
    out = image_bgr if inplace else image_bgr.copy()
    thickness = max(2, round(max(out.shape[:2]) / 400))
    scale = max(0.5, max(out.shape[:2]) / 1400)
    for face in faces:
        b, colour = face.box, hex_to_bgr(EMOTION_COLORS[face.top_emotion])
        cv2.rectangle(out, (b.x, b.y), (b.x + b.w, b.y + b.h), colour, thickness, cv2.LINE_AA)
        label = f"{face.top_emotion} {100 * face.confidence:.0f}%"
        (tw, th), base = cv2.getTextSize(label, FONT, scale, 1)
        top = b.y - th - base - 4 if b.y - th - base - 4 >= 0 else b.y + b.h  # below the box near the top edge
        cv2.rectangle(out, (b.x, top), (b.x + tw + 6, top + th + base + 4), colour, cv2.FILLED)
        cv2.putText(out, label, (b.x + 3, top + th + 2), FONT, scale, _text_colour(colour), 1, cv2.LINE_AA)
    return out


def draw_probability_bars(
    frame_bgr: np.ndarray,
    probabilities: Mapping[str, float],
    *,
    inplace: bool = False,
    width: int = 240,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Draw 7 horizontal bars (EMOTIONS order, length = probability) in a panel whose top-left corner is
    *origin* ``(x, y)`` (the frame's top-left corner by default; the panel is clipped to the frame)."""
    out = frame_bgr if inplace else frame_bgr.copy()
    row = max(12, min(22, out.shape[0] // 20))
    panel_h, panel_w = row * len(EMOTIONS) + 6, min(width, out.shape[1])
    x0 = int(np.clip(origin[0], 0, out.shape[1] - panel_w))
    y0 = int(np.clip(origin[1], 0, max(0, out.shape[0] - panel_h)))
    region = out[y0 : y0 + panel_h, x0 : x0 + panel_w]
    region[:] = (region * 0.4).astype(out.dtype)  # darken the panel so the text stays readable
    scale = row / 36
    bar_x = 10 + max(cv2.getTextSize(e, FONT, scale, 1)[0][0] for e in EMOTIONS)
    for i, emotion in enumerate(EMOTIONS):
        y = y0 + 3 + i * row
        p = float(np.clip(probabilities.get(emotion, 0.0), 0.0, 1.0))
        end = x0 + bar_x + int(max(0, panel_w - bar_x - 4) * p)
        colour = hex_to_bgr(EMOTION_COLORS[emotion])
        cv2.rectangle(out, (x0 + bar_x, y + 3), (end, y + row - 3), colour, cv2.FILLED)
        cv2.putText(out, emotion, (x0 + 4, y + row - 5), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _text_colour(background_bgr: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = background_bgr
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)
