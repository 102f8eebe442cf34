"""Train the AWSome emotion CNN on FER2013 (with optional FERPlus soft labels).

Run commands::

    awsome train --config debug                      # ~1 minute smoke run on a slice
    awsome train --config vgg --out runs/vgg         # the real run (hours on 2 CPU cores)
    nohup awsome train --config vgg --out runs/vgg > runs/vgg.log 2>&1 &   # in the background
    awsome train --config vgg --out runs/vgg         # same command again resumes from runs/vgg/last.keras
    awsome train --config wide --out runs/x --resume-from models/training/wide64-swa --epochs 200 \
        --set swa_start=150 --set swa_lr=0.0015          # go on from the committed weights-only checkpoint
                                                         # (warm start, see warm_start; swa.py: the averaging)

One file in the spirit of nanoGPT's train.py: a config dataclass with presets, the data
pipeline, the model, then one loop (Keras ``fit`` one epoch at a time) that evaluates on
PublicTest after every epoch, appends a line to ``log.jsonl`` and checkpoints.

Resuming is exact up to floating point: the checkpoint (``last.keras``) holds the weights,
the optimizer state (its step counter drives the learning-rate schedule) and the random
layers' seed state; the shuffle order of epoch *e* depends only on ``seed`` and *e*; the
config is stored beside it (``config.json``) and a resumed run refuses a different config.

The schedule is SGDR (cosine with warm restarts; cycle lengths ``cycle_epochs`` × 2^k): the
end of every cycle is a good model, so a run can be stopped at a cycle end across sessions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.training.data import augment, load_split, shuffled

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data_dir: str = "../shared/data/fer2013"  # holds fer2013_train.npz and fer2013_val.npz
    widths: tuple[int, ...] = (
        48,
        96,
        192,
        384,
    )  # channels per VGG block (2 convs each, then 2x2 max-pool); 2.8M params
    convs_per_block: int = 2
    dense_units: int = 384
    dropout: float = 0.4
    epochs: int = 150  # 150 = SGDR cycles of 10 + 20 + 40 + 80 epochs; every cycle end is a good model
    cycle_epochs: int = 10  # first SGDR cycle; each next one is twice as long
    batch_size: int = 64
    lr: float = 0.05  # peak SGD (Nesterov, momentum 0.9) learning rate
    min_lr_ratio: float = 0.002
    weight_decay: float = 5e-4
    ferplus_weight: float = 0.3  # target = (1 - w) * one-hot(FER label) + w * FERPlus vote distribution
    label_smoothing: float = 0.0
    drop_not_face: bool = True  # drop rows FERPlus marks "not a face" (NF votes = 10)
    mixed_bfloat16: bool = True  # measured faster on CPUs with AVX-512 BF16/AMX, harmless elsewhere
    swa_start: int = 0  # >0: from this epoch on, constant swa_lr and the weights averaged every epoch (swa.py)
    swa_lr: float = 0.01
    swa_bn_rows: int = 10000  # augmented training rows that recompute the averaged model's BatchNorm statistics
    limit_train: int = 0  # >0: use only the first N training rows (debug)
    limit_val: int = 0
    seed: int = 1337
    preset: str = "vgg"
    extra: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, dict[str, Any]] = {
    "vgg": {},
    "small": {"widths": (32, 64, 128, 256), "dense_units": 256, "epochs": 30},
    # 4.7M params, ~1.8x the FLOPs of "vgg": still about a millisecond per face served int8.
    "wide": {"widths": (64, 128, 256, 512), "dense_units": 512},
    "debug": {
        "widths": (8, 16),
        "dense_units": 16,
        "epochs": 2,
        "cycle_epochs": 2,
        "batch_size": 32,
        "limit_train": 256,
        "limit_val": 128,
        "mixed_bfloat16": False,
    },
}


def make_config(preset: str, **overrides: Any) -> TrainConfig:
    """Return the preset's config with *overrides* applied (unknown names raise ``TypeError``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    if "widths" in values:
        values["widths"] = tuple(values["widths"])
    return TrainConfig(preset=preset, **values)


# ----------------------------------------------------------------------------- model


def build_backbone(cfg: TrainConfig) -> Any:
    """The inference network: 48×48×1 pixels in [0, 255] → 7 probabilities (float32 softmax)."""
    import keras
    from keras import layers

    reg = keras.regularizers.l2(cfg.weight_decay) if cfg.weight_decay else None
    inputs = keras.Input((48, 48, 1), name="pixels")
    h = layers.Rescaling(1 / 255.0)(inputs)
    for width in cfg.widths:
        for _ in range(cfg.convs_per_block):
            h = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_regularizer=reg)(h)
            h = layers.BatchNormalization()(h)
            h = layers.ReLU()(h)
        h = layers.MaxPooling2D()(h)
    h = layers.GlobalAveragePooling2D()(h)
    h = layers.Dropout(cfg.dropout)(h)
    h = layers.Dense(cfg.dense_units, use_bias=False, kernel_regularizer=reg)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Dropout(cfg.dropout)(h)
    logits = layers.Dense(len(EMOTIONS), kernel_regularizer=reg)(h)
    probs = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probs, name="awsome_fer")


def build_training_model(cfg: TrainConfig, steps_per_epoch: int) -> Any:
    import keras

    backbone = build_backbone(cfg)
    inputs = keras.Input((48, 48, 1), name="pixels")
    model = keras.Model(inputs, backbone(inputs), name="awsome_fer_train")
    if cfg.swa_start:
        from awsome_core.training.swa import SgdrThenConstant

        schedule = SgdrThenConstant(
            cfg.lr, cfg.cycle_epochs * steps_per_epoch, cfg.min_lr_ratio, cfg.swa_start * steps_per_epoch, cfg.swa_lr
        )
    else:
        schedule = keras.optimizers.schedules.CosineDecayRestarts(
            cfg.lr, first_decay_steps=cfg.cycle_epochs * steps_per_epoch, t_mul=2.0, m_mul=1.0, alpha=cfg.min_lr_ratio
        )
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def warm_start(cfg: TrainConfig, steps_per_epoch: int, weights: Path, *, epoch: int) -> Any:
    """A training model carrying the weights of *weights*, a weights-only checkpoint, at *epoch*.

    Committed checkpoints hold the backbone alone (a third the size; no optimizer state), so
    continuing one is not bit-exact: momentum restarts from zero, while the learning-rate schedule
    goes on from *epoch* (the optimizer's step counter is set to where that epoch ended).
    """
    import keras

    model = build_training_model(cfg, steps_per_epoch)
    saved = keras.saving.load_model(weights, compile=False)
    source = saved.get_layer("awsome_fer") if any(layer.name == "awsome_fer" for layer in saved.layers) else saved
    backbone_of(model).set_weights(source.get_weights())
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(epoch * steps_per_epoch)
    logger.warning("warm start from %s at epoch %d: weights only, optimizer momentum starts at zero", weights, epoch)
    return model


def _committed_backbone(out_dir: Path) -> Path | None:
    """The one backbone a committed folder holds: the weight average (swa.keras) if the run averaged, else
    best.keras; None if neither is there."""
    return next((p for p in (out_dir / "swa.keras", out_dir / "best.keras") if p.exists()), None)


def backbone_of(model: Any) -> Any:
    return model.get_layer("awsome_fer")


def reseed(model: Any, seed: int) -> None:
    """Set every random layer's seed state (dropout) from *seed*.

    Called at the start of each epoch with a value derived from (config seed, epoch), so a run
    resumed from a checkpoint draws exactly the random numbers an uninterrupted run would.
    """
    import keras

    generators = [
        value
        for layer in model._flatten_layers(include_self=True, recursive=True)
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]
    for i, generator in enumerate(generators):
        generator.state.assign(np.array([(seed + 7919 * i) % 2**32, 0], dtype=generator.state.dtype))


# ----------------------------------------------------------------------------- helpers


def predict_probabilities(backbone: Any, x: np.ndarray, *, tta: bool = False, batch: int = 256) -> np.ndarray:
    """Probabilities for N×48×48(×1) uint8 faces; ``tta`` averages with the mirrored face."""
    x = x.reshape(-1, 48, 48, 1).astype(np.float32)
    out = []
    for i in range(0, len(x), batch):
        b = x[i : i + batch]
        p = np.asarray(backbone.predict_on_batch(b), dtype=np.float64)
        if tta:
            p = (p + np.asarray(backbone.predict_on_batch(np.ascontiguousarray(b[:, :, ::-1])), dtype=np.float64)) / 2
        out.append(p)
    return np.concatenate(out)


def git_sha() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], text=True, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _config_dict(cfg: TrainConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["widths"] = list(cfg.widths)
    return d


# ----------------------------------------------------------------------------- the loop


def train(cfg: TrainConfig, out_dir: Path, *, max_epochs_this_run: int = 0) -> dict[str, Any]:
    """Train (or resume) into *out_dir*; return the last epoch's log record."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from awsome_core.training import swa  # registers SgdrThenConstant, which last.keras may name

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg_path, last_path, best_path = out_dir / "config.json", out_dir / "last.keras", out_dir / "best.keras"
    log_path, state_path = out_dir / "log.jsonl", out_dir / "state.json"
    if cfg_path.exists():
        saved = json.loads(cfg_path.read_text())
        comparable = {k: v for k, v in saved.items() if k not in ("data_dir", "epochs")}
        mine = {k: v for k, v in _config_dict(cfg).items() if k not in ("data_dir", "epochs")}
        if comparable != mine:
            raise SystemExit(f"{cfg_path} holds a different config; use another --out or the same config")
    cfg_path.write_text(json.dumps(_config_dict(cfg), indent=2))

    if cfg.mixed_bfloat16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(cfg.seed)
    data_dir = Path(cfg.data_dir)
    x_tr, t_tr, _ = load_split(data_dir / "fer2013_train.npz", cfg, train=True)
    x_va, t_va, y_va = load_split(data_dir / "fer2013_val.npz", cfg, train=False)
    steps = int(np.ceil(len(x_tr) / cfg.batch_size))
    logger.info("train %d rows, val %d rows, %d steps/epoch", len(x_tr), len(x_va), steps)

    state = json.loads(state_path.read_text()) if state_path.exists() else {"epoch": 0, "best_acc": 0.0, "seconds": 0.0}
    if last_path.exists() and state["epoch"] > 0:
        model = keras.saving.load_model(last_path, compile=True)
        logger.info("resumed from %s at epoch %d", last_path, state["epoch"])
    elif state["epoch"] > 0 and (weights := _committed_backbone(out_dir)) is not None:
        model = warm_start(cfg, steps, weights, epoch=state["epoch"])
    else:
        model = build_training_model(cfg, steps)
    logger.info("parameters: %d", backbone_of(model).count_params())

    record: dict[str, Any] = {}
    done_this_run = 0
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        t0 = time.time()
        reseed(model, cfg.seed * 1000 + epoch)
        xs, ts = shuffled(x_tr, t_tr, cfg, epoch=epoch)
        xs = augment(xs, np.random.default_rng([cfg.seed, epoch, 1]))
        hist = model.fit(xs, ts, batch_size=cfg.batch_size, epochs=1, shuffle=False, verbose=0)
        train_seconds = time.time() - t0
        probs = predict_probabilities(backbone_of(model), x_va[..., 0])
        val_acc = float((probs.argmax(1) == y_va).mean())
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        state["epoch"] = epoch + 1
        state["seconds"] += time.time() - t0
        record = {
            "epoch": epoch + 1,
            "train_loss": float(hist.history["loss"][-1]),
            "train_acc": float(hist.history["accuracy"][-1]),
            "val_acc": val_acc,
            "lr": lr,
            "epoch_seconds": round(time.time() - t0, 1),
            "images_per_second": round(len(x_tr) / train_seconds, 1),
        }
        if val_acc > state["best_acc"]:
            state["best_acc"] = val_acc
            state["best_epoch"] = epoch + 1
            model.save(best_path)
        if cfg.swa_start and epoch >= cfg.swa_start:
            record.update(swa.fold_epoch(cfg, backbone_of(model), out_dir, state, x_tr, x_va, y_va, epoch=epoch))
        model.save(last_path)  # written before state.json so a crash between them re-runs at most one epoch
        state_path.write_text(json.dumps(state))
        with log_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        logger.info("epoch %s", json.dumps(record))
        done_this_run += 1
        if max_epochs_this_run and done_this_run >= max_epochs_this_run:
            break
    record["best_acc"] = state["best_acc"]
    record["git_sha"] = git_sha()
    return record


# Fields that shape the weights: a warm start must keep them; every other field (learning rate,
# label mixing, regularisation, ...) may change when a run goes on from a committed checkpoint.
ARCHITECTURE_FIELDS = ("widths", "convs_per_block", "dense_units")


def adopt_config(cfg_path: Path, cfg: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """Let a warm start (``--resume-from``) train on with *cfg*; return the fields it changes.

    Refuses (``SystemExit``) a config whose architecture differs from the checkpoint's.
    """
    saved = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    mine = _config_dict(cfg)
    wrong = [k for k in ARCHITECTURE_FIELDS if k in saved and saved[k] != mine[k]]
    if wrong:
        raise SystemExit(f"{cfg_path}: the checkpoint's {', '.join(wrong)} differ from this config's")
    skip = ("data_dir", "epochs")
    changed = {k: (saved.get(k), v) for k, v in mine.items() if k not in skip and saved.get(k) != v}
    for key, (before, after) in changed.items():
        logger.warning("warm start changes %s: %r -> %r", key, before, after)
    cfg_path.write_text(json.dumps(mine, indent=2))
    return changed


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["lr=0.1", "preset_note=x"]`` → ``{"lr": 0.1, "preset_note": "x"}`` (values parsed as JSON, else text)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="awsome train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="vgg", choices=sorted(PRESETS))
    parser.add_argument("--out", type=Path, default=None, help="run directory (default runs/<config>)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--max-epochs-this-run", type=int, default=0)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, VALUE as JSON (e.g. --set batch_size=128 --set widths=[64,128,256,512])",
    )
    parser.add_argument(
        "--resume-from",
        type=Path,
        default=None,
        help="a committed checkpoint folder (e.g. models/training/wide64) to start --out from when --out is new",
    )
    args = parser.parse_args(argv)
    cfg = make_config(args.config, data_dir=args.data_dir, epochs=args.epochs, **parse_overrides(args.overrides))
    out = args.out or Path("runs") / args.config
    if args.resume_from and not (out / "state.json").exists():
        shutil.copytree(args.resume_from, out, dirs_exist_ok=True)
        adopt_config(out / "config.json", cfg)
        logger.info("starting %s from the checkpoint in %s", out, args.resume_from)
    record = train(cfg, out, max_epochs_this_run=args.max_epochs_this_run)
    logger.info("done: %s", json.dumps(record))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(main())
