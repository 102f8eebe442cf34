"""The teacher's soft targets for a distillation run (``awsome train --teacher ...``).

``TrainConfig.teacher`` names either one soft-target file (``.npz`` from ``awsome ensemble soft-targets``)
or the ensemble members themselves, which are then scored once on the un-augmented training file into
``<run>/teacher.npz`` (reused when the run resumes, so a resumed run sees the same targets). Training
reads the members' log-probabilities at its own rows (``data.Split.rows``) and softens them:
``mean over members of softmax(log p / T)``. The loss is ``model.DistillationLoss``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from awsome_core.errors import AwsomeError

if TYPE_CHECKING:
    from awsome_core.training.config import TrainConfig
    from awsome_core.training.data import Split

logger = logging.getLogger(__name__)


def tempered(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """The mean over members (axis 0) of ``softmax(log_probs / temperature)``: M×N×7 → N×7 float32."""
    z = np.asarray(log_probs, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    out: np.ndarray = p.mean(axis=0).astype(np.float32)
    return out


def soft_target_file(cfg: TrainConfig, train_path: Path, out_dir: Path) -> Path:
    """The soft-target file of *cfg*'s teacher: the named ``.npz``, or ``out_dir/teacher.npz`` computed from
    the members on the first call."""
    if len(cfg.teacher) == 1 and cfg.teacher[0].endswith(".npz"):
        return Path(cfg.teacher[0])
    cached = out_dir / "teacher.npz"
    if not cached.exists():
        from awsome_core.training.ensemble import load_member, write_soft_targets

        members = [load_member(m) for m in cfg.teacher]
        partial = out_dir / "teacher.partial.npz"
        write_soft_targets(members, train_path, partial, tta=cfg.teacher_tta)
        partial.replace(cached)  # written whole or not at all: a crash never leaves half a file to resume from
    return cached


def teacher_targets(cfg: TrainConfig, split: Split, train_path: Path, out_dir: Path) -> np.ndarray:
    """N×7 teacher probabilities at temperature ``distill_temperature`` for the rows of *split*."""
    from awsome_core.training.ensemble import pixels_sha256

    path = soft_target_file(cfg, train_path, out_dir)
    with np.load(path) as f:
        log_probs, sha = f["log_probs"], str(f["pixels_sha256"])
        members = [str(m) for m in f["members"]]
    with np.load(train_path) as data:
        rows_in_file, expected = len(data["y"]), pixels_sha256(data["x"])
    if log_probs.shape[1] != rows_in_file or sha != expected:
        raise AwsomeError(f"{path} was computed on other faces than {train_path}: compute it again")
    logger.info("teacher: %d members from %s at T=%s", len(members), path, cfg.distill_temperature)
    return tempered(log_probs[:, split.rows], cfg.distill_temperature)
