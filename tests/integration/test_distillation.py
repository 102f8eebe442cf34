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


@pytest.mark.slow
def test_ensemble_scores_distils_a_student_that_resumes_exactly_and_exports(tmp_path: Path) -> None:
    data = _tiny_fer(tmp_path / "data")
    train_npz, val_npz = data / "fer2013_train.npz", data / "fer2013_val.npz"
    base = {"data_dir": str(data), "limit_train": 0, "limit_val": 0}
    a, b = tmp_path / "a", tmp_path / "b"
    T.train(T.make_config("debug", epochs=1, seed=1, **base), a)
    T.train(T.make_config("debug", epochs=1, seed=2, widths=(8, 8), dense_units=8, **base), b)

    # The ensemble: every member and the mean of their probabilities, with TTA and the tighter re-crop.
    report = tmp_path / "ensemble.json"
    args = ["--members", str(a), str(b / "best.keras"), "--data", str(val_npz), "--tta", "--recrop", "0.8"]
    assert E.main(["evaluate", *args, "--json", str(report)]) == 0
    info = json.loads(report.read_text())
    assert [m["name"] for m in info["members"]] == ["a", "b"] and info["evaluation"]["rows"] == 48
    assert set(info["evaluation"]["recrop"]) == {"0.8"} and info["members"][0]["recrop_accuracy"].keys() == {"0.8"}
    members = [E.load_member(a), E.load_member(b)]
    x_va = np.load(val_npz)["x"]
    mean = (members[0].predict(x_va) + members[1].predict(x_va)) / 2
    y_va = np.load(val_npz)["y"]
    assert info["evaluation"]["plain"]["accuracy"] == pytest.approx(float((mean.argmax(1) == y_va).mean()))

    # Soft targets once into a file; a student trained from the members directly computes the same file.
    teacher = tmp_path / "teacher.npz"
    assert E.main(["soft-targets", "--members", str(a), str(b), "--data", str(train_npz), "--out", str(teacher)]) == 0
    assert np.load(teacher)["log_probs"].shape == (2, 96, 7)

    distil = {"distill_temperature": 3.0, "distill_alpha": 0.8, "mixup_alpha": 0.2, "cutmix_prob": 0.5}
    cfg = T.make_config("debug", teacher=[str(teacher)], zoom=(0.85, 1.4), **distil, **base)
    straight = T.train(cfg, tmp_path / "straight")
    interrupted = tmp_path / "interrupted"
    assert T.train(cfg, interrupted, max_epochs_this_run=1)["epoch"] == 1
    resumed = T.train(cfg, interrupted)  # loads last.keras with the custom loss and metric
    assert resumed["epoch"] == 2 and 0.0 <= resumed["train_acc"] <= 1.0
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-4)
    assert resumed["val_acc"] == pytest.approx(straight["val_acc"])

    by_members = tmp_path / "by-members"
    T.train(T.make_config("debug", teacher=[str(a), str(b)], epochs=1, **distil, **base), by_members)
    np.testing.assert_allclose(np.load(by_members / "teacher.npz")["log_probs"], np.load(teacher)["log_probs"])

    # The student exports to the int8 serving model; its card says how it was distilled.
    from awsome_core.training import evaluate, export

    models = tmp_path / "models"
    checkpoint = str(tmp_path / "straight" / "best.keras")
    assert export.main(["--checkpoint", checkpoint, "--out", str(models), "--data", str(val_npz)]) == 0
    model = models / "emotion.tflite"
    card_args = ["--data", str(val_npz), "--model", str(model), "--tta", "--recrop", "0.8", "--update-card"]
    assert evaluate.main(card_args) == 0
    assert E.main(["evaluate", *args, "--hardware", "2 CPU cores", "--update-card", str(models / "emotion.json")]) == 0

    card = load_card(models / "emotion.json")
    assert card.distillation is not None and card.distillation.teacher == (str(teacher),)
    assert (card.distillation.temperature, card.distillation.alpha) == (3.0, 0.8)
    assert card.ensemble is not None and len(card.ensemble.members) == 2
    assert card.evaluation["fer2013_val"].recrop["0.8"].plain.rows == 48
    readme = (models / "README.md").read_text()
    assert "## Distillation" in readme and "temperature T = 3.0" in readme
    assert "## Ensemble and student" in readme and "| ensemble of 2 |" in readme
    assert f"student `{card.model_version}` (served)" in readme and "re-crop 0.8" in readme

    from awsome_core.vision.classifier import EmotionClassifier

    served = EmotionClassifier.load(model, tta=None)
    assert served.tta == "flip" and served.model_card == card
    assert served.predict(x_va[:3]).shape == (3, 7)
