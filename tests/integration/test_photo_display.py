"""The picture the Photo page shows: encoded once, at display size, boxes scaled with it (issue #14)."""

from __future__ import annotations

import cv2
import numpy as np

from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.detector import Box
from awsome_core.vision.photo import DISPLAY_MAX_SIDE, annotated_jpeg, most_face_like_first

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


def _face(x: int, side: int, score: float) -> FaceEmotion:
    return FaceEmotion(Box(x, 100, side, side, score), PROBS)


def test_the_most_face_like_box_comes_first_and_a_doubtful_one_never_does() -> None:
    big_doubtful, small_sharp, large_sharp = _face(0, 400, 0.7), _face(500, 100, 0.95), _face(700, 200, 0.9)
    assert most_face_like_first([big_doubtful, small_sharp, large_sharp]) == (large_sharp, small_sharp, big_doubtful)
    assert most_face_like_first([big_doubtful, _face(500, 100, 0.65)])[0] == big_doubtful  # score × area


def test_annotated_jpeg_numbers_every_box_in_the_order_given() -> None:
    image = np.full((600, 1000, 3), 255, np.uint8)
    faces = [_face(600, 300, 0.9), _face(100, 40, 0.9)]  # a large box and one too small to hold its number
    shown = _decode(annotated_jpeg(image, faces))
    badge = round(1000 / 16)
    inside = shown[100 : 100 + badge, 600 : 600 + badge]
    beside = shown[100 : 100 + badge, 100 - badge - 2 : 98]
    for region in (inside, beside):  # a filled badge in the box's colour with a dark digit on it
        assert (np.abs(region.astype(int) - 255).max(axis=2) > 60).mean() > 0.8
    assert (np.abs(shown[100:140, 100:140].astype(int) - 255).max(axis=2) > 60).mean() < 0.5  # not covered


def test_a_single_face_carries_no_number() -> None:
    image = np.full((600, 1000, 3), 255, np.uint8)
    shown = _decode(annotated_jpeg(image, [_face(600, 300, 0.9)]))
    corner = shown[110 : 100 + round(1000 / 16), 610 : 600 + round(1000 / 16)]  # inside the box, past its edge
    assert (np.abs(corner.astype(int) - 255).max(axis=2) > 60).mean() < 0.05
