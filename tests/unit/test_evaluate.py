"""Evaluation metrics on hand-made arrays, the report table, the plotly figure and the model card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import AwsomeError
from awsome_core.training.card import Evaluation, ModelCard
from awsome_core.training.card_readme import render_model_card
from awsome_core.training.evaluate import (
    EvalReport,
    confusion_figure,
    evaluate_probabilities,
    evaluation_of,
    format_evaluation,
    format_report,
    load_faces,
    main,
    score_views,
    tta_probabilities,
    update_card,
)


def onehot(labels: list[int], k: int = 7) -> np.ndarray:
    return np.eye(k)[labels]


def test_evaluate_probabilities_counts_hand_made_case() -> None:
    y = np.array([0, 0, 0, 3, 3, 4])
    pred = [0, 0, 3, 3, 3, 3]  # angry: 2/3 recalled; happy: 2/2 recalled, 2/4 precise; sad: missed
    report = evaluate_probabilities(y, onehot(pred))
    assert report.rows == 6 and report.accuracy == pytest.approx(4 / 6)
    assert report.labels == EMOTIONS
    assert report.support == (3, 0, 0, 2, 1, 0, 0)
    assert report.recall[0] == pytest.approx(2 / 3) and report.recall[3] == 1.0 and report.recall[4] == 0.0
    assert report.precision[0] == 1.0 and report.precision[3] == pytest.approx(0.5)
    assert report.f1[0] == pytest.approx(0.8) and report.f1[3] == pytest.approx(2 / 3)
    assert report.confusion[0] == (2, 0, 0, 1, 0, 0, 0) and report.confusion[4][3] == 1
    assert sum(map(sum, report.confusion)) == 6
    assert report.macro_f1 == pytest.approx((0.8 + 2 / 3) / 7)


def test_evaluate_probabilities_perfect_and_frozen() -> None:
    y = np.arange(7).repeat(3)
    report = evaluate_probabilities(y, onehot(list(y)) * 0.9 + 0.01)
    assert report.accuracy == 1.0 and all(r == 1.0 for r in report.recall) and report.macro_f1 == 1.0
    with pytest.raises(AttributeError):
        report.accuracy = 0.5  # type: ignore[misc]
    assert json.loads(json.dumps(report.to_dict()))["confusion"][6][6] == 3
    assert EvalReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_evaluate_probabilities_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        evaluate_probabilities(np.array([0, 1]), np.zeros((3, 7)))
    with pytest.raises(ValueError, match="0..6"):
        evaluate_probabilities(np.array([7]), np.zeros((1, 7)))


def test_format_report_shows_accuracy_and_every_label() -> None:
    text = format_report(evaluate_probabilities(np.array([3, 3, 6]), onehot([3, 6, 6])), "demo")
    assert "accuracy=66.67%" in text and "demo" in text
    assert all(label in text for label in EMOTIONS)


def test_confusion_figure_is_a_row_normalized_heatmap() -> None:
    report = evaluate_probabilities(np.array([0, 0, 3, 3]), onehot([0, 3, 3, 3]))
    fig = confusion_figure(report)
    z = np.array(fig.data[0].z)
    assert z.shape == (7, 7) and z[0, 0] == pytest.approx(0.5) and z[3, 3] == 1.0
    assert list(fig.data[0].x) == list(EMOTIONS)


def test_tta_averages_mirrored_views() -> None:
    x = np.zeros((2, 48, 48), np.uint8)
    x[:, :, :10] = 255  # bright left edge

    def left_bright(faces: np.ndarray) -> np.ndarray:  # "happy" when the left edge is bright, else "sad"
        p = np.zeros((len(faces), 7))
        bright = faces[:, :, :5].mean(axis=(1, 2)) > 128
        p[bright, 3], p[~bright, 4] = 1, 1
        return p

    probs = tta_probabilities(left_bright, x, "flip")
    assert np.allclose(probs[:, 3], 0.5) and np.allclose(probs[:, 4], 0.5)
    assert tta_probabilities(left_bright, x, "shift").sum(1) == pytest.approx([1, 1])
    with pytest.raises(ValueError, match="TTA mode"):
        tta_probabilities(left_bright, x, "rotate")


def test_load_faces_explains_what_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((2, 48, 48), np.uint8))
    with pytest.raises(AwsomeError, match="needs arrays 'x'"):
        load_faces(bad)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x=np.zeros((2, 32, 32), np.uint8), y=np.zeros(2, np.uint8))
    with pytest.raises(AwsomeError, match="N×48×48"):
        load_faces(wrong)
    with pytest.raises(AwsomeError, match="No data file"):
        load_faces(tmp_path / "missing.npz")
    good = tmp_path / "good.npz"
    np.savez(good, x=np.zeros((5, 48, 48, 1), np.uint8), y=np.arange(5, dtype=np.uint8))
    x, y = load_faces(good, limit=3)
    assert x.shape == (3, 48, 48) and list(y) == [0, 1, 2]


def test_update_card_stores_figures_and_renders_readme(tmp_path: Path) -> None:
    card_path = tmp_path / "emotion.json"
    card_path.write_text(
        json.dumps({"model_version": "fer-test-e1-abc", "labels": list(EMOTIONS), "input_shape": [48, 48, 1]})
    )
    y = np.array([0, 3, 3, 4, 6, 6])
    plain = evaluate_probabilities(y, onehot([0, 3, 3, 3, 6, 0]))
    shift = evaluate_probabilities(y, onehot([0, 3, 3, 4, 6, 0]))
    flip = evaluate_probabilities(y, onehot([0, 3, 3, 3, 6, 6]))
    evaluation = Evaluation(rows=6, plain=plain, evaluated="2026-12-02", tta={"shift": shift, "flip": flip})
    update_card(card_path, tmp_path / "fer2013_val.npz", evaluation)
    card = json.loads(card_path.read_text())
    entry = card["evaluation"]["fer2013_val"]
    assert entry["plain"]["accuracy"] == pytest.approx(4 / 6) and entry["tta"]["accuracy"] == pytest.approx(5 / 6)
    assert entry["tta_mode"] == "shift" and entry["tta_by_mode"]["flip"]["accuracy"] == pytest.approx(5 / 6)
    readme = (tmp_path / "README.md").read_text()
    assert "**66.7%** without TTA, **83.3%** with shift TTA, **83.3%** with flip TTA." in readme
    assert "recall (shift TTA)" in readme
    assert "fer-test-e1-abc" in readme and "| happy | 2 |" in readme
    assert "Classes recalled below 60%" in readme  # sad 0%


def test_render_model_card_without_evaluation_says_how_to_fill_it() -> None:
    text = render_model_card(ModelCard(model_version="v", labels=EMOTIONS, input_shape=(48, 48, 1)))
    assert "Not evaluated yet" in text and "angry, disgust, fear, happy, sad, surprise, neutral" in text


def test_evaluate_main_refuses_update_card_with_limit(tmp_path: Path) -> None:
    with pytest.raises(AwsomeError, match="--update-card"):
        main(["--data", str(tmp_path / "x.npz"), "--limit", "5", "--update-card"])


def test_eval_report_is_a_dataclass_of_tuples() -> None:
    report = evaluate_probabilities(np.array([1]), onehot([1]))
    assert isinstance(report, EvalReport) and isinstance(report.confusion, tuple)


def test_card_describes_an_averaged_checkpoint_from_its_run_folder(tmp_path: Path) -> None:
    """export.run_info reads the SWA figures for swa_best.keras, and the card says what was averaged."""
    from awsome_core.training.export import run_info

    (tmp_path / "config.json").write_text(json.dumps({"epochs": 160, "swa_lr": 0.005, "swa_bn_rows": 10000}))
    (tmp_path / "state.json").write_text(json.dumps({"epoch": 156, "best_epoch": 150, "swa_best_epoch": 155}))
    log = [
        {"epoch": e, "train_acc": 0.8, "val_acc": 0.70, "epoch_seconds": 10.0, "images_per_second": 100.0}
        for e in range(149, 157)
    ]
    for r in log[2:]:
        r.update(swa_models=r["epoch"] - 150, swa_val_acc=0.71 + r["epoch"] / 10000)
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in log))

    info = run_info(tmp_path / "swa_best.keras")
    assert (info["epoch"], info["averaged_models"]) == (155, 5)
    assert info["val_acc_at_epoch"] == pytest.approx(0.7255)
    assert run_info(tmp_path / "best.keras")["averaged_models"] is None
    assert run_info(tmp_path / "best.keras")["val_acc_at_epoch"] == pytest.approx(0.70)
    card = {"model_version": "v", "labels": list(EMOTIONS), "input_shape": [48, 48, 1]}
    text = render_model_card(ModelCard.from_dict({**card, "training": {**info, "hardware": "here"}}))
    assert "weights after each of epochs 151–155 (5 epochs at a constant learning rate 0.005)" in text


def test_evaluation_reads_new_and_old_card_entries() -> None:
    y = np.array([0, 3, 3])
    flip, shift = (evaluate_probabilities(y, onehot(p)).to_dict() for p in ([0, 3, 3], [0, 3, 0]))
    plain = flip
    new = {"rows": 3, "plain": plain, "tta_mode": "flip", "tta": flip, "tta_by_mode": {"flip": flip, "shift": shift}}
    assert list(Evaluation.from_dict(new).tta) == ["flip", "shift"]
    assert Evaluation.from_dict(new).to_dict() == {"evaluated": "", **new}
    old = Evaluation.from_dict({"rows": 3, "plain": plain, "tta_mode": "shift", "tta": shift})  # before tta_by_mode
    assert list(old.tta) == ["shift"] and old.tta["shift"].accuracy == pytest.approx(2 / 3)
    assert list(Evaluation.from_dict({"rows": 3, "plain": plain, "tta": flip}).tta) == ["flip"]
    assert Evaluation.from_dict({"rows": 3, "plain": plain}).tta == {}


def test_recrop_scores_the_central_part_and_reaches_the_card(tmp_path: Path) -> None:
    """--recrop 0.8: a predictor that reads only the border sees a different face once re-cropped."""
    x = np.zeros((4, 48, 48), np.uint8)
    x[:, :5, :] = 255  # a bright top band that the central 80% (rows 5..43) cuts away
    y = np.array([3, 3, 4, 4])

    def top_bright(faces: np.ndarray) -> np.ndarray:  # "happy" when the top rows are bright, else "sad"
        return onehot([3 if f[:2].mean() > 128 else 4 for f in faces])

    evaluation = evaluation_of(y, score_views(top_bright, x, tta_modes=["flip"], recrops=[0.8]))
    assert evaluation.plain.accuracy == 0.5 and evaluation.tta["flip"].accuracy == 0.5
    recropped = evaluation.recrop["0.8"]
    assert recropped.fraction == 0.8 and recropped.plain.recall[3] == 0.0 and recropped.plain.recall[4] == 1.0
    assert list(recropped.tta) == ["flip"]
    assert "re-cropped to the central 0.8" in format_evaluation(evaluation, "demo")

    card_path = tmp_path / "emotion.json"
    card_path.write_text(json.dumps({"model_version": "v", "labels": list(EMOTIONS), "input_shape": [48, 48, 1]}))
    update_card(card_path, tmp_path / "fer2013_val.npz", evaluation)
    stored = json.loads(card_path.read_text())["evaluation"]["fer2013_val"]["recrop"]["0.8"]
    assert stored["plain"]["accuracy"] == 0.5 and "flip" in stored["tta_by_mode"]
    readme = (tmp_path / "README.md").read_text()
    assert "Re-cropped tighter (the central 80% resized to 48×48, `--recrop 0.8`): **50.0%** without TTA" in readme


def test_committed_card_round_trips_and_renders_the_committed_readme() -> None:
    """The typed card reads models/emotion.json and writes back the same JSON and the same README bytes."""
    from awsome_core.training.card import card_json, load_card
    from tests.conftest import PROJECT_ROOT

    models = PROJECT_ROOT / "models"
    card = load_card(models / "emotion.json")
    assert card.serving_mode("live") == "flip" and card.evaluation["fer2013_val"].tta_mode == "flip"
    assert card_json(card) == (models / "emotion.json").read_text(encoding="utf-8")
    size = f"{(models / card.file).stat().st_size / 1e6:.2f} MB"
    assert render_model_card(card, model_size=size) == (models / "README.md").read_text(encoding="utf-8")
    with pytest.raises(AttributeError):
        card.model_version = "x"  # type: ignore[misc]


def test_load_card_explains_a_broken_card(tmp_path: Path) -> None:
    from awsome_core.errors import ModelError
    from awsome_core.training.card import load_card

    with pytest.raises(ModelError, match="missing"):
        load_card(tmp_path / "emotion.json")
    (tmp_path / "emotion.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_card(tmp_path / "emotion.json")
