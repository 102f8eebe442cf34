"""Train the AWSome emotion CNN on FER2013 (with optional FERPlus soft labels).

Run commands::

    awsome train --config debug                      # smoke run on a slice
    awsome train --config vgg --out runs/vgg         # a real run (on CPUs or, KERAS_BACKEND=jax, a lent GPU)
    nohup awsome train --config vgg --out runs/vgg > runs/vgg.log 2>&1 &   # in the background
    awsome train --config vgg --out runs/vgg         # same command again resumes from runs/vgg/last.keras
    awsome train --config wide --out runs/x --resume-from models/training/wide64-swa --epochs 200 \
        --set swa_start=150 --set swa_lr=0.0015          # go on from the committed weights-only checkpoint
                                                         # (warm start, see model.warm_start; swa.py: the averaging)
    awsome train --config wide --out runs/student --teacher runs/a runs/b runs/c \
        --set distill_temperature=2 --set distill_alpha=0.7   # distil an ensemble (distill.py, ensemble.py)

In the spirit of nanoGPT's train.py: the config (``config.py``: ``TrainConfig`` and presets) and the model
(``model.py``) live in their own modules; this one holds the loop (Keras ``fit`` one epoch at a time) that
evaluates on PublicTest after every epoch, appends a line to ``log.jsonl`` and checkpoints.

Resuming is exact up to floating point: the checkpoint (``last.keras``) holds the weights,
the optimizer state (its step counter drives the learning-rate schedule) and the random
layers' seed state; the shuffle order, augmentation and mixing of epoch *e* depend only on ``seed`` and *e*;
a teacher's soft targets are computed once into the run folder; the config is stored beside it
(``config.json``) and a resumed run refuses a different config.

The schedule is SGDR (cosine with warm restarts; cycle lengths ``cycle_epochs`` × 2^k): the
end of every cycle is a good model, so a run can be stopped at a cycle end across sessions.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from awsome_core.training import swa
from awsome_core.training.config import (
    ARCHITECTURE_FIELDS,
    PRESETS,
    RESUMABLE_FIELDS,
    TrainConfig,
    comparable,
    config_dict,
    make_config,
    parse_overrides,
)
from awsome_core.training.data import augment, load_split, mix, shuffled
from awsome_core.training.distill import teacher_targets
from awsome_core.training.model import (
    backbone_of,
    build_training_model,
    committed_backbone,
    predict_probabilities,
    reseed,
    warm_start,
)

logger = logging.getLogger(__name__)

_config_dict = config_dict  # the name tests/integration/test_vision.py uses


def git_sha() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], text=True, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _check_config(cfg_path: Path, cfg: TrainConfig) -> None:
    if cfg_path.exists():
        saved, mine = comparable(json.loads(cfg_path.read_text()), cfg)
        if saved != mine:
            changed = sorted(k for k in mine if saved[k] != mine[k])
            raise SystemExit(f"{cfg_path} holds a different config ({', '.join(changed)}); use another --out")
    cfg_path.write_text(json.dumps(config_dict(cfg), indent=2))


def _load_model(cfg: TrainConfig, out_dir: Path, steps: int, epoch: int) -> Any:
    last = out_dir / "last.keras"
    if last.exists() and epoch > 0:
        logger.info("resumed from %s at epoch %d", last, epoch)
        return keras.saving.load_model(last, compile=True)
    if epoch > 0 and (weights := committed_backbone(out_dir)) is not None:
        return warm_start(cfg, steps, weights, epoch=epoch)
    return build_training_model(cfg, steps)


def train(cfg: TrainConfig, out_dir: Path, *, max_epochs_this_run: int = 0) -> dict[str, Any]:
    """Train (or resume) into *out_dir*; return the last epoch's log record."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_config(out_dir / "config.json", cfg)
    log_path, state_path, best_path = out_dir / "log.jsonl", out_dir / "state.json", out_dir / "best.keras"
    if cfg.mixed_bfloat16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(cfg.seed)
    data_dir = Path(cfg.data_dir)
    split = load_split(data_dir / "fer2013_train.npz", cfg, train=True)
    x_tr, t_tr = split.x, split.targets
    if cfg.distilling:  # 14 target columns: the labels' 7, then the teacher's tempered probabilities
        teacher = teacher_targets(cfg, split, data_dir / "fer2013_train.npz", out_dir)
        t_tr = np.concatenate([t_tr, teacher], axis=1)
    x_va, _, y_va, _ = load_split(data_dir / "fer2013_val.npz", cfg, train=False)
    steps = int(np.ceil(len(x_tr) / cfg.batch_size))
    logger.info("train %d rows, val %d rows, %d steps/epoch", len(x_tr), len(x_va), steps)

    state = json.loads(state_path.read_text()) if state_path.exists() else {"epoch": 0, "best_acc": 0.0, "seconds": 0.0}
    model = _load_model(cfg, out_dir, steps, int(state["epoch"]))
    logger.info("parameters: %d", backbone_of(model).count_params())

    record: dict[str, Any] = {}
    done_this_run = 0
    while state["epoch"] < cfg.epochs:
        epoch = int(state["epoch"])
        t0 = time.time()
        reseed(model, cfg.seed * 1000 + epoch)
        xs, ts = shuffled(x_tr, t_tr, cfg, epoch=epoch)
        xs = augment(xs, np.random.default_rng([cfg.seed, epoch, 1]), zoom=cfg.zoom)
        mixing = np.random.default_rng([cfg.seed, epoch, 3])
        xs, ts = mix(xs, ts, mixing, mixup_alpha=cfg.mixup_alpha, cutmix_prob=cfg.cutmix_prob)
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
        model.save(out_dir / "last.keras")  # written before state.json so a crash between them re-runs one epoch
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


def adopt_config(cfg_path: Path, cfg: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """Let a warm start (``--resume-from``) train on with *cfg*; return the fields it changes.

    Refuses (``SystemExit``) a config whose architecture differs from the checkpoint's.
    """
    saved = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    mine = config_dict(cfg)
    wrong = [k for k in ARCHITECTURE_FIELDS if k in saved and saved[k] != mine[k]]
    if wrong:
        raise SystemExit(f"{cfg_path}: the checkpoint's {', '.join(wrong)} differ from this config's")
    before, after = comparable(saved, cfg)
    changed = {k: (before[k], v) for k, v in after.items() if before[k] != v}
    for key, (old, new) in changed.items():
        logger.warning("warm start changes %s: %r -> %r", key, old, new)
    cfg_path.write_text(json.dumps(mine, indent=2))
    return changed


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
    parser.add_argument(
        "--teacher",
        nargs="+",
        default=None,
        metavar="MEMBER",
        help="distil from these ensemble members (run folders, .keras, .tflite) or one soft-target .npz",
    )
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.overrides)
    if args.teacher:
        overrides["teacher"] = args.teacher
    cfg = make_config(args.config, data_dir=args.data_dir, epochs=args.epochs, **overrides)
    out = args.out or Path("runs") / args.config
    if args.resume_from and not (out / "state.json").exists():
        shutil.copytree(args.resume_from, out, dirs_exist_ok=True)
        adopt_config(out / "config.json", cfg)
        logger.info("starting %s from the checkpoint in %s", out, args.resume_from)
    record = train(cfg, out, max_epochs_this_run=args.max_epochs_this_run)
    logger.info("done: %s", json.dumps(record))
    return 0


__all__ = ["RESUMABLE_FIELDS", "TrainConfig", "adopt_config", "make_config", "train"]

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(main())
