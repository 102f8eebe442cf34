"""Ensemble scoring, distillation into a student, int8 export and the re-cropped evaluation, end to end on the
debug preset and a tiny synthetic FER-shaped set (seconds on a CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from awsome_core.training import ensemble as E
from awsome_core.training import train as T
from awsome_core.training.card import load_card
from tests.integration.test_training import _tiny_fer


def test_distillation_loss_is_cross_entropy_plus_the_tempered_kl() -> None:
    import keras

    from awsome_core.training.model import DistillationLoss

    def loss(temperature: float, alpha: float, teacher: np.ndarray) -> float:
        value = DistillationLoss(temperature, alpha).call(np.hstack([labels, teacher]), p)
        return float(keras.ops.convert_to_numpy(value)[0])

    p = np.array([[0.6, 0.1, 0.1, 0.1, 0.05, 0.03, 0.02]], np.float32)
    labels = np.eye(7, dtype=np.float32)[[0]]
    ce = -np.log(0.6)
    assert loss(2.0, 0.0, p) == pytest.approx(ce, rel=1e-5)
    # A teacher that agrees with the student at temperature T adds nothing; any other adds a positive KL.
    logits = np.log(p) / 3.0
    student_t = np.exp(logits) / np.exp(logits).sum()
    assert loss(3.0, 0.5, student_t) == pytest.approx(0.5 * ce, rel=1e-4)
    assert loss(3.0, 0.5, np.full((1, 7), 1 / 7, np.float32)) > 0.5 * ce + 1e-3
    restored = DistillationLoss.from_config(DistillationLoss(4.0, 0.9).get_config())
    assert (restored.temperature, restored.alpha) == (4.0, 0.9)


DISTIL = {"distill_temperature": 3.0, "distill_alpha": 0.8, "mixup_alpha": 0.2, "cutmix_prob": 0.5}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two debug members (different seeds and widths), their soft targets, and a student distilled from them."""
    root = tmp_path_factory.mktemp("distill")
    data = _tiny_fer(root / "data")
    base = {"data_dir": str(data), "limit_train": 0, "limit_val": 0}
    a, b = root / "a", root / "b"
    T.train(T.make_config("debug", epochs=1, seed=1, **base), a)
    T.train(T.make_config("debug", epochs=1, seed=2, widths=(8, 8), dense_units=8, **base), b)
    teacher = root / "teacher.npz"
    args = ["soft-targets", "--members", str(a), str(b), "--data", str(data / "fer2013_train.npz"), "--out"]
    assert E.main([*args, str(teacher)]) == 0
    T.train(_student_config(data, teacher), root / "student")
    return {"root": root, "data": data, "a": a, "b": b, "teacher": teacher, "student": root / "student"}


def _student_config(data: Path, *teacher: Path, **overrides: object) -> T.TrainConfig:
    base = {"data_dir": str(data), "limit_train": 0, "limit_val": 0, "zoom": (0.85, 1.4), **DISTIL, **overrides}
    return T.make_config("debug", teacher=[str(t) for t in teacher], **base)


def _ensemble_args(runs: dict[str, Path]) -> list[str]:
    val = str(runs["data"] / "fer2013_val.npz")
    return ["--members", str(runs["a"]), str(runs["b"] / "best.keras"), "--data", val, "--tta", "--recrop", "0.8"]


@pytest.mark.slow
def test_ensemble_evaluate_scores_each_member_and_their_mean(runs: dict[str, Path]) -> None:
    report = runs["root"] / "ensemble.json"
    assert E.main(["evaluate", *_ensemble_args(runs), "--json", str(report)]) == 0
    info = json.loads(report.read_text())
    assert [m["name"] for m in info["members"]] == ["a", "b"] and info["evaluation"]["rows"] == 48
    assert set(info["evaluation"]["recrop"]) == {"0.8"} and info["members"][0]["recrop_accuracy"].keys() == {"0.8"}
    members = [E.load_member(runs["a"]), E.load_member(runs["b"])]
    with np.load(runs["data"] / "fer2013_val.npz") as val:
        x_va, y_va = val["x"], val["y"]
    mean = (members[0].predict(x_va) + members[1].predict(x_va)) / 2
    assert info["evaluation"]["plain"]["accuracy"] == pytest.approx(float((mean.argmax(1) == y_va).mean()))
    assert np.load(runs["teacher"])["log_probs"].shape == (2, 96, 7)


@pytest.mark.slow
def test_distilled_student_resumes_exactly(runs: dict[str, Path]) -> None:
    cfg = _student_config(runs["data"], runs["teacher"])
    straight = [json.loads(line) for line in (runs["student"] / "log.jsonl").read_text().splitlines()][-1]
    interrupted = runs["root"] / "interrupted"
    assert T.train(cfg, interrupted, max_epochs_this_run=1)["epoch"] == 1
    resumed = T.train(cfg, interrupted)  # loads last.keras with the custom loss and metric
    assert resumed["epoch"] == 2 and 0.0 <= resumed["train_acc"] <= 1.0
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-4)
    assert resumed["val_acc"] == pytest.approx(straight["val_acc"])


@pytest.mark.slow
def test_teacher_named_by_its_members_computes_the_same_soft_targets(runs: dict[str, Path]) -> None:
    out = runs["root"] / "by-members"
    T.train(_student_config(runs["data"], runs["a"], runs["b"], epochs=1), out)
    np.testing.assert_allclose(np.load(out / "teacher.npz")["log_probs"], np.load(runs["teacher"])["log_probs"])


@pytest.mark.slow
def test_student_exports_int8_and_its_card_shows_ensemble_recrop_and_distillation(runs: dict[str, Path]) -> None:
    from awsome_core.training import evaluate, export
    from awsome_core.vision.classifier import EmotionClassifier

    models, val = runs["root"] / "models", str(runs["data"] / "fer2013_val.npz")
    checkpoint = str(runs["student"] / "best.keras")
    assert export.main(["--checkpoint", checkpoint, "--out", str(models), "--data", val]) == 0
    model, card_path = models / "emotion.tflite", str(models / "emotion.json")
    assert evaluate.main(["--data", val, "--model", str(model), "--tta", "--recrop", "0.8", "--update-card"]) == 0
    report = runs["root"] / "ensemble-for-card.json"
    assert E.main(["evaluate", *_ensemble_args(runs), "--hardware", "2 CPU cores", "--json", str(report)]) == 0
    assert E.main(["add-to-card", "--json", str(report), "--card", card_path]) == 0  # as for figures from a GPU

    card = load_card(card_path)
    members = (str(runs["a"] / "best.keras"), str(runs["b"] / "best.keras"))
    assert card.distillation is not None and card.distillation.teacher == members
    assert card.distillation.soft_targets == str(runs["teacher"]) and card.distillation.teacher_tta == "flip"
    assert (card.distillation.temperature, card.distillation.alpha) == (3.0, 0.8)
    assert card.ensemble is not None and len(card.ensemble.members) == 2 and card.ensemble.hardware == "2 CPU cores"
    assert card.evaluation["fer2013_val"].recrop["0.8"].plain.rows == 48
    readme = (models / "README.md").read_text()
    assert "## Distillation" in readme and "temperature T = 3.0" in readme
    assert "## Ensemble and student" in readme and "| ensemble of 2 |" in readme
    assert f"student `{card.model_version}` (served)" in readme and "re-crop 0.8" in readme

    served = EmotionClassifier.load(model, tta=None)
    assert served.tta == "flip" and served.model_card == card
    assert served.predict(np.zeros((3, 48, 48), np.uint8)).shape == (3, 7)
