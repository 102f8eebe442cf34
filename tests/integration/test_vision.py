"""The committed models end to end: emotion.tflite + card, BlazeFace detection, analysis, CLI.

Fails (by design) until ``models/emotion.tflite`` is exported; see models/README.md.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from awsome_core.config import PROJECT_ROOT
from awsome_core.emotions import EMOTIONS
from awsome_core.errors import ModelError
from awsome_core.training.evaluate import evaluate_probabilities, load_faces
from awsome_core.vision import EmotionClassifier, analyze_image, crop_face, detect_faces
from awsome_core.vision.detector import SPECS, FaceDetector, _anchors, _tiles
from tests.conftest import shared_data_path

MODEL = PROJECT_ROOT / "models" / "emotion.tflite"
FRAME = (640, 480)


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier.load(MODEL)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


FACE_CENTRE = (227.0, 118.0)  # where the astronaut's face is in skimage's 512×512 photo


def in_frame(image: np.ndarray, scale: float, angle: float = 0.0) -> np.ndarray:
    """The photo scaled and rotated about the face, which lands at the centre of a 640×480 frame."""
    m = cv2.getRotationMatrix2D(FACE_CENTRE, angle, scale)
    m[:, 2] += (FRAME[0] / 2 - FACE_CENTRE[0], FRAME[1] / 2 - FACE_CENTRE[1])
    return cv2.warpAffine(image, m, FRAME, borderValue=(40, 40, 40))


def group_photo(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Five astronaut heads of different sizes (40–100 px faces) pasted into a 960×540 canvas."""
    canvas = np.full((540, 960, 3), 60, np.uint8)
    head = image[20:260, 110:350]
    spots = [(20, 20, 1.0), (300, 40, 0.7), (520, 20, 0.5), (700, 250, 1.0), (300, 330, 0.8)]
    for x, y, s in spots:
        h = cv2.resize(head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        canvas[y : y + h.shape[0], x : x + h.shape[1]] = h
    return canvas, len(spots)


# ----------------------------------------------------------------------------- classifier


def test_committed_model_loads_and_probabilities_sum_to_one(classifier: EmotionClassifier) -> None:
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    probs = classifier.predict(faces)
    assert probs.shape == (5, 7) and probs.dtype == np.float32
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4) and (probs >= 0).all()
    assert classifier.predict(faces[0]).shape == (1, 7)
    assert classifier.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    assert classifier.model_version.startswith("fer-")
    card = classifier.card
    assert card["labels"] == list(EMOTIONS) and card["input_shape"] == [48, 48, 1]


def test_classifier_tta_averages_with_the_mirror(classifier: EmotionClassifier) -> None:
    faces = np.random.default_rng(1).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    expected = (classifier.predict(faces) + classifier.predict(faces[:, :, ::-1])) / 2
    assert np.allclose(classifier.predict(faces, tta=True), expected, atol=1e-6)


def copy_model(tmp_path: Path, **card_changes: object) -> Path:
    shutil.copy(MODEL, tmp_path / "emotion.tflite")
    card = json.loads(MODEL.with_suffix(".json").read_text())
    card.update(card_changes)
    (tmp_path / "emotion.json").write_text(json.dumps(card))
    return tmp_path / "emotion.tflite"


def test_twins_of_one_model_serving_other_tta_modes_can_take_turns(classifier: EmotionClassifier) -> None:
    """The Photo page's twin ("shift": 10 views) and the Live page's ("flip": 2, or 1 a frame) share one
    interpreter: each call must find it sized for its own batch, whichever twin ran before (a twin keeping
    its own count once set a 1-face batch into a 2-view one: ValueError on every live frame after a photo)."""
    rng = np.random.default_rng(3)
    faces = rng.integers(0, 256, (1, 48, 48), dtype=np.uint8)
    twins = {mode: classifier.with_tta(mode) for mode in ("shift", "flip", "none")}
    expected = {mode: twin.predict(faces) for mode, twin in twins.items()}
    for mode in ("flip", "none", "shift", "none", "flip", "shift", "none"):
        np.testing.assert_allclose(twins[mode].predict(faces), expected[mode], atol=1e-6)


def test_label_order_mismatch_raises_model_error(tmp_path: Path) -> None:
    swapped = ["disgust", "angry", *EMOTIONS[2:]]
    with pytest.raises(ModelError, match="labels"):
        EmotionClassifier.load(copy_model(tmp_path, labels=swapped))


def test_the_card_says_how_the_model_is_served(tmp_path: Path) -> None:
    from awsome_core.vision.classifier import serving_tta

    card = json.loads(MODEL.with_suffix(".json").read_text())
    assert (serving_tta(card, "photo"), serving_tta(card, "live")) == ("flip", "flip")  # the committed card
    assert serving_tta({"serving_tta": "flip"}, "live") == serving_tta({"serving_tta": "flip"}) == "flip"
    assert serving_tta({"serving_tta": "none"}) == serving_tta({}) == serving_tta({"serving_tta": "x"}) == "none"
    assert serving_tta({"serving_tta": {"photo": "shift"}}, "live") == "none"
    assert EmotionClassifier.load(MODEL, tta=None).tta == "flip"  # what the app loads (ui/mood.py)
    per_use = copy_model(tmp_path, serving_tta={"photo": "shift", "live": "flip"})
    assert EmotionClassifier.load(per_use, tta=None).tta == "shift"
    assert EmotionClassifier.load(copy_model(tmp_path, serving_tta="none"), tta=None).tta == "none"
    assert EmotionClassifier.load(MODEL).tta == "none"  # benchmarks and evaluation ask for plain predictions


def test_shift_tta_averages_ten_views_in_one_batch(classifier: EmotionClassifier) -> None:
    from awsome_core.vision.classifier import tta_views

    faces = np.random.default_rng(2).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    views = tta_views(faces, "shift")
    assert len(views) == 10 and all(v.shape == faces.shape for v in views)
    np.testing.assert_array_equal(views[2][:, 2:, :], faces[:, :-2, :])  # "up" view: the face moved down 2 px
    expected = np.mean([classifier.predict(v) for v in views], axis=0)
    np.testing.assert_allclose(classifier.predict(faces, tta="shift"), expected, atol=1e-6)
    with pytest.raises(ValueError, match="unknown TTA mode"):
        classifier.predict(faces, tta="rotate")


def test_input_shape_mismatch_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="expects input"):
        EmotionClassifier.load(copy_model(tmp_path, input_shape=[64, 64, 1]))


def test_missing_model_or_card_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        EmotionClassifier.load(tmp_path / "emotion.tflite")
    shutil.copy(MODEL, tmp_path / "emotion.tflite")
    with pytest.raises(ModelError, match="card is missing"):
        EmotionClassifier.load(tmp_path / "emotion.tflite")


def test_classifier_predict_is_thread_safe(classifier: EmotionClassifier) -> None:
    rng = np.random.default_rng(2)
    batches = [rng.integers(0, 256, (n, 48, 48), dtype=np.uint8) for n in (1, 3, 1, 5, 2, 1, 4, 1)]
    expected = [classifier.predict(b) for b in batches]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(5):
            results[i] = classifier.predict(batches[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, e in enumerate(expected):
        assert np.allclose(results[i], e, atol=1e-6)


# ----------------------------------------------------------------------------- detector


def test_anchor_counts_match_the_models() -> None:
    assert len(_anchors(SPECS["short"])) == 896 and len(_anchors(SPECS["full_sparse"])) == 2304


def test_tiles_cover_the_image() -> None:
    for h, w in [(480, 640), (540, 960), (1080, 1920), (2000, 500)]:
        covered = np.zeros((h, w), bool)
        for x, y, side in _tiles(h, w):
            assert x + side <= w and y + side <= h
            covered[y : y + side, x : x + side] = True
        assert covered.all()


def test_astronaut_face_is_found_and_happy(astronaut: np.ndarray, classifier: EmotionClassifier) -> None:
    faces = analyze_image(astronaut, classifier=classifier)
    assert len(faces) == 1
    cx, cy = faces[0].box.center
    assert abs(cx - FACE_CENTRE[0]) < 20 and abs(cy - FACE_CENTRE[1]) < 25
    assert faces[0].top_emotion == "happy"
    assert sum(faces[0].probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert list(faces[0].probabilities) == list(EMOTIONS)


@pytest.mark.parametrize("scale", [0.5, 0.75, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("angle", [0, -30, -15, 15, 30])
def test_detector_finds_astronaut_scaled_and_rotated(astronaut: np.ndarray, scale: float, angle: float) -> None:
    boxes = detect_faces(in_frame(astronaut, scale, angle))
    assert len(boxes) == 1, boxes
    b = boxes[0]
    assert b.x < FRAME[0] / 2 < b.x + b.w and b.y < FRAME[1] / 2 < b.y + b.h  # the face centre is inside
    assert 0.6 < b.w / (110 * scale) < 1.6  # about the face's size (110 px framed at scale 1)


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_detector_finds_face_in_whole_scaled_photo(astronaut: np.ndarray, scale: float) -> None:
    image = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert len(detect_faces(image)) == 1


def test_detector_finds_every_face_of_a_group_photo(astronaut: np.ndarray) -> None:
    image, count = group_photo(astronaut)
    boxes = detect_faces(image, small_faces=True)
    assert len(boxes) == count
    assert len({(b.x // 100, b.y // 100) for b in boxes}) == count  # five different places


def test_detector_finds_nothing_in_a_blank_or_noisy_frame() -> None:
    assert detect_faces(np.full((480, 640, 3), 128, np.uint8)) == []
    noise = np.random.default_rng(3).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert detect_faces(noise, small_faces=True) == []


def test_detector_accepts_grayscale_and_refuses_bad_shapes(astronaut: np.ndarray) -> None:
    assert len(detect_faces(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))) == 1
    with pytest.raises(ValueError, match="BGR"):
        detect_faces(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError, match="unknown face detector"):
        FaceDetector("tiny")


def test_crop_face_levels_a_rolled_head(astronaut: np.ndarray) -> None:
    upright = detect_faces(astronaut)[0]
    rolled_image = in_frame(astronaut, 1.0, 30)
    rolled = detect_faces(rolled_image)[0]
    assert rolled.angle - upright.angle > 15  # counter-clockwise roll measured positive
    a, b = crop_face(astronaut, upright).astype(float), crop_face(rolled_image, rolled).astype(float)
    assert a.shape == b.shape == (48, 48)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.5


# ----------------------------------------------------------------------------- accuracy and CLI


def _card_accuracy() -> float:
    card = json.loads((PROJECT_ROOT / "models" / "emotion.json").read_text())
    return float(card["evaluation"]["fer2013_val"]["plain"]["accuracy"])


@pytest.mark.shared_data
def test_publictest_500_rows_accuracy_matches_the_model_card(classifier: EmotionClassifier) -> None:
    """Guards the export and the loader: the served model scores what its card says (±5 points)."""
    x, y = load_faces(shared_data_path("fer2013", "fer2013_val.npz"), limit=500)
    report = evaluate_probabilities(y, classifier.predict(x))
    assert report.accuracy >= _card_accuracy() - 0.05, f"accuracy {report.accuracy:.3f} on 500 PublicTest rows"


@pytest.mark.shared_data
@pytest.mark.xfail(
    _card_accuracy() < 0.68,
    reason="issue 3 is open: the committed model is still training toward the 68%/72% targets (see models/README.md)",
    strict=True,
)
def test_publictest_500_rows_accuracy_at_least_68_percent(classifier: EmotionClassifier) -> None:
    x, y = load_faces(shared_data_path("fer2013", "fer2013_val.npz"), limit=500)
    report = evaluate_probabilities(y, classifier.predict(x))
    assert report.accuracy >= 0.68, f"accuracy {report.accuracy:.3f} on 500 PublicTest rows"


def test_predict_cli_prints_json(tmp_path: Path, astronaut: np.ndarray, capsys: pytest.CaptureFixture[str]) -> None:
    from awsome_core.vision.predict import main

    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), astronaut)
    assert main([str(path), "--model", str(MODEL)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["width"] == 512 and out["model_version"].startswith("fer-")
    (face,) = out["faces"]
    assert set(face["box"]) >= {"x", "y", "w", "h"} and list(face["probabilities"]) == list(EMOTIONS)
    assert face["emotion"] == "happy"


# ----------------------------------------------------------------------------- export


@pytest.mark.slow
def test_export_converts_a_mixed_precision_checkpoint(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    from awsome_core.training import export, train

    cfg = train.make_config("debug")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # as the real run trains
    try:
        keras.utils.set_random_seed(0)
        model = train.build_training_model(cfg, steps_per_epoch=1)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    run = tmp_path / "runs" / "debug"
    run.mkdir(parents=True)
    model.save(run / "best.keras")
    (run / "config.json").write_text(json.dumps(train._config_dict(cfg)))
    (run / "state.json").write_text(json.dumps({"epoch": 2, "best_epoch": 1, "best_acc": 0.3, "seconds": 9.0}))
    record = {"epoch": 1, "train_acc": 0.2, "val_acc": 0.3, "epoch_seconds": 4.5, "images_per_second": 99.0}
    (run / "log.jsonl").write_text(json.dumps(record) + "\n" + json.dumps({**record, "epoch": 2}) + "\n")
    faces = tmp_path / "faces.npz"
    rng = np.random.default_rng(0)
    np.savez(faces, x=rng.integers(0, 256, (64, 48, 48), dtype=np.uint8), y=rng.integers(0, 7, 64, dtype=np.uint8))

    assert (
        export.main(["--checkpoint", str(run / "best.keras"), "--out", str(tmp_path / "models"), "--data", str(faces)])
        == 0
    )
    classifier = EmotionClassifier.load(tmp_path / "models" / "emotion.tflite")
    card = classifier.card
    assert classifier.model_version.startswith("fer-debug-e1-")
    assert card["training"]["epoch"] == 1 and card["training"]["seconds_to_epoch"] == 4.5
    assert card["export"]["tflite_vs_keras_float32"]["argmax_agreement"] >= 0.99
    assert np.allclose(classifier.predict(np.zeros((2, 48, 48), np.uint8)).sum(1), 1, atol=1e-4)
    assert "fer-debug-e1-" in (tmp_path / "models" / "README.md").read_text()


def test_overlays_draw_on_a_copy(astronaut: np.ndarray, classifier: EmotionClassifier) -> None:
    from awsome_core.vision import draw_faces, draw_probability_bars

    faces = analyze_image(astronaut, classifier=classifier)
    before = astronaut.copy()
    drawn = draw_faces(astronaut, faces)
    bars = draw_probability_bars(drawn, faces[0].probabilities)
    assert (astronaut == before).all() and drawn.shape == bars.shape == astronaut.shape
    assert (drawn != astronaut).any() and (bars[:100, :100] != drawn[:100, :100]).any()
    frame = astronaut.copy()
    assert draw_probability_bars(frame, faces[0].probabilities, inplace=True) is frame
