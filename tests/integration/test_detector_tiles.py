"""Photo mode runs the tiled small-face passes only where they can add a face (issue #14), with the real
BlazeFace models: a close-up skips them, a group shot, a large image and a picture without faces use them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from awsome_core.vision import detector
from awsome_core.vision.detector import detect_faces
from tests.integration.test_vision import group_photo


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture
def tile_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    real = detector._detect_tiles

    def counting(far: detector.FaceDetector, image: np.ndarray, min_score: float) -> list[detector.Box]:
        calls.append(image.shape[:2])
        return real(far, image, min_score)

    monkeypatch.setattr(detector, "_detect_tiles", counting)
    return calls


def test_close_up_skips_the_tiles_and_still_finds_the_face(astronaut: np.ndarray, tile_calls: list) -> None:
    assert len(detect_faces(astronaut, small_faces=True)) == 1
    assert tile_calls == []


def test_group_photo_uses_the_tiles_and_finds_every_face(astronaut: np.ndarray, tile_calls: list) -> None:
    image, count = group_photo(astronaut)
    assert len(detect_faces(image, small_faces=True)) == count
    assert tile_calls == [image.shape[:2]]


def test_large_image_uses_the_tiles(astronaut: np.ndarray, tile_calls: list) -> None:
    large = cv2.resize(astronaut, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    assert len(detect_faces(large, small_faces=True)) == 1
    assert tile_calls == [large.shape[:2]]


def test_nothing_found_uses_the_tiles(tile_calls: list) -> None:
    blank = np.full((480, 640, 3), 90, np.uint8)
    assert detect_faces(blank, small_faces=True, retry_rotated=False) == []
    assert tile_calls == [(480, 640)]


def test_live_mode_never_uses_the_tiles(astronaut: np.ndarray, tile_calls: list) -> None:
    image, _ = group_photo(astronaut)
    detect_faces(image, small_faces=False)
    assert tile_calls == []
