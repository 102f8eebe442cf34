"""The detector on scripts/bench_detection.py's image set: no box on scikit-image's face-free photos, every
face of the recall tests still found, and the second look is what removes the false boxes."""

from __future__ import annotations

import numpy as np
import pytest

from awsome_core.vision import face_check
from awsome_core.vision.detector import NEAR_MODEL, Box, detect_faces, get_detector
from scripts.bench_detection import ASTRONAUT_FACE, Sample, evaluate, image_set, in_frame, is_face


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return image_set()


@pytest.mark.parametrize("small_faces", [True, False], ids=["photo", "live"])
def test_no_box_on_the_face_free_sample_photos(samples: list[Sample], small_faces: bool) -> None:
    negatives = [s for s in samples if not s.faces]
    assert len(negatives) >= 120  # 23 scikit-image photos and composites, 100 LFW patches without a face
    false = {s.name: detect_faces(s.image, small_faces=small_faces) for s in negatives}
    assert {name: boxes for name, boxes in false.items() if boxes} == {}


def test_every_box_in_the_face_photos_is_a_face(samples: list[Sample]) -> None:
    score = evaluate([s for s in samples if s.faces], lambda image: detect_faces(image, small_faces=True))
    assert score.false_boxes == {}
    assert score.precision == 1.0


def test_the_second_look_keeps_every_real_face_the_detector_finds(samples: list[Sample]) -> None:
    """LFW's 100 faces (real people, tight and blurry at 120 px): all found, none lost to the second look."""
    faces = [s for s in samples if s.name.startswith("lfw face")]
    assert len(faces) == 100
    score = evaluate(faces, lambda image: detect_faces(image, small_faces=True))
    assert score.missed == {} and score.precision == 1.0


def test_the_recall_tests_faces_are_all_still_found(samples: list[Sample]) -> None:
    recall_set = [s for s in samples if s.name.startswith(("astronaut", "camera", "group: 5 astronaut"))]
    assert sum(len(s.faces) for s in recall_set) == 4 + 15 + 5
    score = evaluate(recall_set, lambda image: detect_faces(image, small_faces=True))
    assert score.missed == {}
    assert score.recall == 1.0


def test_the_second_look_is_what_removes_the_false_boxes(
    samples: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the check the same photos get false boxes: the tests above pass because of it, not by luck."""
    negatives = [s for s in samples if not s.faces]
    monkeypatch.setattr(face_check, "confirm_faces", lambda image, boxes, **_: boxes)
    raw = evaluate(negatives, lambda image: detect_faces(image, small_faces=True))
    assert "logo" in raw.false_boxes
    assert raw.fp_per_neg_image > 0
    logo = next(s for s in negatives if s.name == "logo")
    (box,) = detect_faces(logo.image)  # BlazeFace alone boxes the scikit-image logo
    monkeypatch.undo()
    near = get_detector(NEAR_MODEL)
    assert all(face_check.second_look(logo.image, box, near, c) < face_check.MIN_SCORE for c in face_check.CONTEXTS)
    assert face_check.confirm_faces(logo.image, [box], near=near) == []


def test_second_look_confirms_a_rolled_face_and_keeps_order() -> None:
    import cv2
    from skimage import data

    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = in_frame(astronaut, ASTRONAUT_FACE, 1.0, 30).image
    near = get_detector(NEAR_MODEL)
    (face,) = detect_faces(frame)
    assert abs(face.angle - 30) < 12
    assert face_check.second_look(frame, face, near) >= face_check.MIN_SCORE
    nowhere = Box(0, 0, 60, 60, 0.9)  # the grey border of the frame
    assert face_check.confirm_faces(frame, [nowhere, face], near=near) == [face]
    assert is_face(face, ((320.0, 240.0, 110.0),)) == 0
    assert np.isfinite(face.score)


def test_a_box_on_a_face_confirmed_a_frame_ago_needs_no_second_look(
    samples: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live video passes the previous frame's faces as *trusted*: the same face found again is kept without a
    second look; a box elsewhere (the logo) is still looked at and dropped."""
    logo = next(s for s in samples if s.name == "logo")
    monkeypatch.setattr(face_check, "confirm_faces", lambda image, boxes, **_: boxes)
    (box,) = detect_faces(logo.image)
    monkeypatch.undo()
    near = get_detector(NEAR_MODEL)
    looks: list[Box] = []
    real_look = face_check.second_look

    def counted_look(image: np.ndarray, b: Box, *args: object, **kwargs: object) -> float:
        looks.append(b)
        return real_look(image, b, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(face_check, "second_look", counted_look)
    moved = Box(box.x + box.w // 10, box.y, box.w, box.h, box.score)  # IoU ≈ 0.8 with box
    assert face_check.confirm_faces(logo.image, [box], near=near, trusted=[moved]) == [box]
    assert looks == []
    far_away = Box(box.x + 2 * box.w, box.y, box.w, box.h, box.score)
    assert face_check.confirm_faces(logo.image, [box], near=near, trusted=[far_away]) == []
    assert looks and all(b == box for b in looks)
    assert detect_faces(logo.image, trusted=[moved]) == [box]  # detect_faces passes them on
    assert detect_faces(logo.image) == []


def test_iou() -> None:
    a = Box(0, 0, 10, 10, 1.0)
    assert face_check.iou(a, a) == 1.0
    assert face_check.iou(a, Box(5, 0, 10, 10, 1.0)) == pytest.approx(50 / 150)
    assert face_check.iou(a, Box(20, 20, 10, 10, 1.0)) == 0.0
