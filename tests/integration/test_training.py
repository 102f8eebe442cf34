"""The training loop end to end on a tiny synthetic FER-shaped set: runs, logs, checkpoints, resumes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from awsome_core.training import data as D
from awsome_core.training import train as T


def _tiny_fer(tmp_path: Path, n_train: int = 96, n_val: int = 48) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, n in (("fer2013_train.npz", n_train), ("fer2013_val.npz", n_val)):
        y = rng.integers(0, 7, n).astype(np.uint8)
        x = rng.integers(0, 256, (n, 48, 48)).astype(np.uint8)
        x[:, :8, :8] = (y * 36)[:, None, None]  # something learnable
        votes = np.zeros((n, 10), np.uint8)
        votes[np.arange(n), np.array(D.FERPLUS_TO_FER)[y]] = 10
        votes[0] = 0
        votes[0, 9] = 10  # one "not a face" row, dropped from training
        np.savez(tmp_path / name, x=x, y=y, ferplus_votes=votes)
    return tmp_path


@pytest.mark.slow
def test_debug_preset_runs_end_to_end_and_resumes_exactly(tmp_path: Path) -> None:
    data = _tiny_fer(tmp_path / "data")
    cfg = T.make_config("debug", data_dir=str(data), limit_train=0, limit_val=0)

    straight = T.train(cfg, tmp_path / "straight")
    interrupted = tmp_path / "interrupted"
    first = T.train(cfg, interrupted, max_epochs_this_run=1)
    assert first["epoch"] == 1
    resumed = T.train(cfg, interrupted)

    log = [json.loads(line) for line in (interrupted / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert (interrupted / "last.keras").exists() and (interrupted / "best.keras").exists()
    assert json.loads((interrupted / "state.json").read_text())["epoch"] == 2
    # Resuming from the epoch-1 checkpoint gives the same epoch 2 as an uninterrupted run.
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-4)
    assert resumed["val_acc"] == pytest.approx(straight["val_acc"])


@pytest.mark.slow
def test_weights_only_checkpoint_warm_starts_at_its_epoch(tmp_path: Path) -> None:
    """A committed backbone-only best.keras goes on at its epoch with the schedule where it left off."""
    import keras

    data = _tiny_fer(tmp_path / "data")
    cfg = T.make_config("debug", data_dir=str(data), limit_train=0, limit_val=0, epochs=1)
    run = tmp_path / "run"
    T.train(cfg, run)
    trained = keras.saving.load_model(run / "best.keras", compile=False)
    backbone = T.backbone_of(trained)
    backbone.save(run / "best.keras")  # what models/training/<run>/ holds: the backbone alone
    (run / "last.keras").unlink()
    expected = backbone.get_weights()

    steps = int(np.ceil(95 / cfg.batch_size))  # 96 rows, one "not a face" row dropped
    model = T.warm_start(cfg, steps, run / "best.keras", epoch=1)
    assert int(model.optimizer.iterations.numpy()) == steps
    for got, want in zip(T.backbone_of(model).get_weights(), expected, strict=True):
        np.testing.assert_array_equal(got, want)

    record = T.train(T.make_config("debug", data_dir=str(data), limit_train=0, limit_val=0, epochs=2), run)
    assert record["epoch"] == 2
    assert [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()] == [1, 2]


def test_load_split_drops_not_a_face_rows_and_mixes_votes(tmp_path: Path) -> None:
    data = _tiny_fer(tmp_path)
    cfg = T.make_config("debug", data_dir=str(data), limit_train=0, ferplus_weight=0.5)
    x, targets, y, rows = D.load_split(data / "fer2013_train.npz", cfg, train=True)
    assert len(x) == 95 and x.shape[1:] == (48, 48, 1) and 0 not in rows and list(rows[:2]) == [1, 2]
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert (targets.argmax(axis=1) == y).all()


def test_resuming_with_a_different_config_is_refused(tmp_path: Path) -> None:
    data = _tiny_fer(tmp_path / "data")
    T.train(T.make_config("debug", data_dir=str(data), epochs=1), tmp_path / "run")
    with pytest.raises(SystemExit, match="different config"):
        T.train(T.make_config("debug", data_dir=str(data), epochs=1, lr=0.5), tmp_path / "run")


@pytest.mark.slow
def test_weight_averaging_resumes_exactly_and_averages_every_epoch(tmp_path: Path) -> None:
    """From swa_start on, the LR is constant and swa.keras is the mean of the epochs' weights."""
    import keras

    data = _tiny_fer(tmp_path / "data")
    cfg = T.make_config("debug", data_dir=str(data), epochs=4, swa_start=2, swa_lr=0.003, swa_bn_rows=64)

    straight = T.train(cfg, tmp_path / "straight")
    assert straight["swa_models"] == 2 and 0.0 <= straight["swa_val_acc"] <= 1.0
    log = [json.loads(line) for line in (tmp_path / "straight" / "log.jsonl").read_text().splitlines()]
    assert [r.get("swa_models") for r in log] == [None, None, 1, 2]
    assert [r["lr"] for r in log[2:]] == pytest.approx([0.003, 0.003])
    assert log[0]["lr"] != pytest.approx(0.003)

    interrupted = tmp_path / "interrupted"
    T.train(cfg, interrupted, max_epochs_this_run=3)
    # Resume in a fresh process, as after a crash: last.keras names the custom schedule, which must load there.
    command = [sys.executable, "-m", "awsome_core.training.train", "--config", "debug", "--out", str(interrupted)]
    command += ["--data-dir", str(data), "--epochs", "4"]
    command += [f"--set={k}={v}" for k, v in {"swa_start": 2, "swa_lr": 0.003, "swa_bn_rows": 64}.items()]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    resumed = json.loads((interrupted / "log.jsonl").read_text().splitlines()[-1])
    assert resumed["epoch"] == 4
    assert resumed["swa_val_acc"] == pytest.approx(straight["swa_val_acc"])
    a = keras.saving.load_model(tmp_path / "straight" / "swa.keras", compile=False)
    b = keras.saving.load_model(interrupted / "swa.keras", compile=False)
    for got, want in zip(b.trainable_weights, a.trainable_weights, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-6)


def test_fold_in_is_the_running_mean() -> None:
    from awsome_core.training import swa

    rng = np.random.default_rng(1)
    weights = [[rng.normal(size=(3, 2)), rng.normal(size=4)] for _ in range(5)]
    average = None
    for count, w in enumerate(weights):
        average = swa.fold_in(average, w, count)
    for i in range(2):
        np.testing.assert_allclose(average[i], np.mean([w[i] for w in weights], axis=0))


def test_recompute_batchnorm_gives_the_data_statistics() -> None:
    import keras

    from awsome_core.training import swa

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.99)(inputs))
    x = np.random.default_rng(2).normal(3.0, 2.0, (1000, 4)).astype(np.float32)
    assert swa.recompute_batchnorm(model, x, batch=100) == 10
    bn = swa.batchnorm_layers(model)[0]
    np.testing.assert_allclose(np.asarray(bn.moving_mean), x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), x.var(axis=0), rtol=2e-2)
    assert bn.momentum == 0.99


def test_warm_start_may_change_training_fields_but_not_the_architecture(tmp_path: Path) -> None:
    data = _tiny_fer(tmp_path / "data")
    T.train(T.make_config("debug", data_dir=str(data), epochs=1), tmp_path / "run")
    cfg_path = tmp_path / "run" / "config.json"
    changed = T.adopt_config(cfg_path, T.make_config("debug", data_dir=str(data), swa_start=1, lr=0.5))
    assert changed == {"swa_start": (0, 1), "lr": (0.05, 0.5)}
    assert json.loads(cfg_path.read_text())["swa_start"] == 1
    with pytest.raises(SystemExit, match="dense_units"):
        T.adopt_config(cfg_path, T.make_config("debug", data_dir=str(data), dense_units=32))
