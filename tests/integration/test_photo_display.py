"""The picture the Photo page shows: encoded once, at display size, boxes scaled with it (issue #14)."""

from __future__ import annotations

import cv2
import numpy as np

from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.detector import Box
from awsome_core.vision.photo import DISPLAY_MAX_SIDE, annotated_jpeg

PROBS = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 1.0, "sad": 0.0, "surprise": 0.0, "neutral": 0.0}


def _decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_annotated_jpeg_reduces_a_large_picture_and_scales_its_boxes() -> None:
    image = np.full((2000, 3000, 3), 200, np.uint8)
    face = FaceEmotion(Box(1500, 1000, 600, 600), PROBS)
    shown = _decode(annotated_jpeg(image, [face]))
    assert shown.shape[:2] == (round(2000 * DISPLAY_MAX_SIDE / 3000), DISPLAY_MAX_SIDE)
    s = DISPLAY_MAX_SIDE / 3000
    edge = shown[round(1000 * s) + 100, round(1500 * s) - 1 : round(1500 * s) + 3].astype(int)
    assert np.abs(edge - 200).max() > 40  # the box's left edge is drawn where the scaled box is
    assert np.abs(shown[5, 5].astype(int) - 200).max() < 10  # and not elsewhere


def test_annotated_jpeg_keeps_a_small_picture_at_its_size() -> None:
    image = np.full((300, 400, 3), 90, np.uint8)
    assert _decode(annotated_jpeg(image, [])).shape == (300, 400, 3)
