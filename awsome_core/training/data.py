"""FER2013 for training: loading with FERPlus soft targets, the per-epoch order, host-side augmentation
(affine warps with a configurable zoom, mixup, cutmix) and the tighter re-crop that evaluation measures.

Everything here is numpy and OpenCV, so ``train.py`` runs unchanged under any Keras backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from awsome_core.emotions import EMOTIONS

if TYPE_CHECKING:
    from pathlib import Path

    from awsome_core.training.config import TrainConfig

# FERPlus vote columns -> FER2013 classes (anger, disgust, fear, happiness, sadness, surprise, neutral).
FERPLUS_TO_FER = [4, 5, 6, 1, 3, 2, 0]
FERPLUS_NF_COLUMN = 9


class Split(NamedTuple):
    """One split as training uses it: x N×48×48×1 uint8, soft targets N×7 float32, hard labels N, and the
    indices of these rows in the ``.npz`` (rows dropped or beyond a limit are absent), which align a
    teacher's soft targets computed on the whole file."""

    x: np.ndarray
    targets: np.ndarray
    y: np.ndarray
    rows: np.ndarray


def load_split(path: Path, cfg: TrainConfig, *, train: bool) -> Split:
    """The split in *path* with the config's limit, not-a-face filter and FERPlus target mixing applied."""
    with np.load(path) as data:
        x, y = data["x"], data["y"].astype(np.int64)
        votes = data["ferplus_votes"].astype(np.float32) if "ferplus_votes" in data else None
    limit = cfg.limit_train if train else cfg.limit_val
    rows = np.arange(len(y))
    if limit:
        x, y, rows = x[:limit], y[:limit], rows[:limit]
        votes = votes[:limit] if votes is not None else None
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[y]
    targets = onehot
    if train and votes is not None:
        if cfg.drop_not_face:
            keep = votes[:, FERPLUS_NF_COLUMN] < 10
            x, y, onehot, votes, rows = x[keep], y[keep], onehot[keep], votes[keep], rows[keep]
        if cfg.ferplus_weight > 0:
            mapped = votes[:, FERPLUS_TO_FER]
            mass = mapped.sum(axis=1, keepdims=True)
            soft = np.where(mass > 0, mapped / np.maximum(mass, 1e-6), onehot)
            targets = (1 - cfg.ferplus_weight) * onehot + cfg.ferplus_weight * soft
        else:
            targets = onehot
    return Split(x[..., None], targets.astype(np.float32), y, rows)


def shuffled(x: np.ndarray, t: np.ndarray, cfg: TrainConfig, *, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """The epoch's training order, drawn from (seed, epoch) alone so a resumed run sees the same batches.

    Plain numpy arrays (no ``tf.data``) keep the loop backend-agnostic: the same script trains
    with ``KERAS_BACKEND=tensorflow`` on our CPUs and ``KERAS_BACKEND=jax`` on a lent GPU.
    """
    order = np.random.default_rng(cfg.seed * 1000 + epoch).permutation(len(x))
    return x[order], t[order]


def augment(x: np.ndarray, rng: np.random.Generator, *, zoom: tuple[float, float] = (0.85, 1.15)) -> np.ndarray:
    """A randomly distorted copy of N×48×48×1 uint8 faces, computed on the host with OpenCV.

    One affine warp per face (mirror with p=0.5, rotation ±18°, scale drawn uniformly from *zoom* (> 1 is a
    tighter crop), shift ±10%, reflected borders),
    then contrast ×[0.7, 1.3] about the face's mean and, with p=0.5, random erasing of 2–20% of the
    area with noise. It runs on the host rather than as Keras preprocessing layers inside the model: under JAX
    those cost more than the network itself, and the host does this while the accelerator trains.
    """
    import cv2

    n = len(x)
    out = np.empty_like(x)
    flip = rng.random(n) < 0.5
    angle = rng.uniform(-18.0, 18.0, n)
    scale = rng.uniform(zoom[0], zoom[1], n)
    shift = rng.uniform(-4.8, 4.8, (n, 2))
    contrast = rng.uniform(0.7, 1.3, n)
    erase = rng.random(n) < 0.5
    area = rng.uniform(0.02, 0.2, n) * 48 * 48
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(1 / 0.3), n))
    corner = rng.random((n, 2))
    for i in range(n):
        face = x[i, :, :, 0]
        if flip[i]:
            face = face[:, ::-1]
        m = cv2.getRotationMatrix2D((23.5, 23.5), float(angle[i]), float(scale[i]))
        m[:, 2] += shift[i]
        warped = cv2.warpAffine(
            np.ascontiguousarray(face), m, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        ).astype(np.float32)
        mean = warped.mean()
        warped = (warped - mean) * contrast[i] + mean
        if erase[i]:
            h = int(min(48, max(1, round(np.sqrt(area[i] * aspect[i])))))
            w = int(min(48, max(1, round(np.sqrt(area[i] / aspect[i])))))
            top, left = int(corner[i, 0] * (48 - h + 1)), int(corner[i, 1] * (48 - w + 1))
            warped[top : top + h, left : left + w] = rng.uniform(0, 255, (h, w))
        out[i, :, :, 0] = np.clip(warped, 0, 255).astype(np.uint8)
    return out


def mix(
    x: np.ndarray, t: np.ndarray, rng: np.random.Generator, *, mixup_alpha: float, cutmix_prob: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mixup and cutmix against a random partner of each face; targets (any number of columns, each part a
    distribution) are mixed with the same weights, so they stay distributions.

    Mixup (Zhang et al., 2018): ``x = lam * x + (1 - lam) * x[partner]`` with ``lam ~ Beta(alpha, alpha)``.
    Cutmix (Yun et al., 2019), for a ``cutmix_prob`` share of the faces instead: a box of the partner pasted
    in, ``lam`` the share of the face kept. Both off (alpha 0, prob 0) return the inputs unchanged.
    """
    n = len(x)
    if n == 0 or (mixup_alpha <= 0 and cutmix_prob <= 0):
        return x, t
    partner = rng.permutation(n)
    lam = rng.beta(mixup_alpha, mixup_alpha, n) if mixup_alpha > 0 else np.ones(n)
    cut = rng.random(n) < cutmix_prob
    side = np.sqrt(1 - rng.uniform(0, 1, n))  # box side as a share of 48: area share 1 - u
    centre = rng.integers(0, 48, (n, 2))
    out = x.astype(np.float32)
    weights = lam.astype(np.float32)
    for i in np.flatnonzero(cut):
        half = int(round(side[i] * 24))
        top, bottom = max(0, centre[i, 0] - half), min(48, centre[i, 0] + half)
        left, right = max(0, centre[i, 1] - half), min(48, centre[i, 1] + half)
        out[i] = x[i]
        out[i, top:bottom, left:right] = x[partner[i], top:bottom, left:right]
        weights[i] = 1 - (bottom - top) * (right - left) / (48 * 48)
    blend = ~cut & (weights < 1)
    w = weights[blend].reshape(-1, *([1] * (x.ndim - 1)))
    out[blend] = w * x[blend] + (1 - w) * x[partner[blend]]
    mixed_t = weights[:, None] * t + (1 - weights[:, None]) * t[partner]
    return np.clip(np.rint(out), 0, 255).astype(x.dtype), mixed_t.astype(t.dtype)


def recrop(x: np.ndarray, fraction: float) -> np.ndarray:
    """The central *fraction* of each N×48×48 face resized back to 48×48 (``0.8``: a crop 20% tighter, as
    posed-face data sets and close webcam framing are); ``1.0`` returns the faces unchanged."""
    import cv2

    if not 0 < fraction <= 1:
        raise ValueError(f"the re-crop fraction must lie in (0, 1], got {fraction}")
    side = int(round(48 * fraction))
    if side == 48 or len(x) == 0:
        return x
    start = (48 - side) // 2
    faces = x.reshape(-1, 48, 48)[:, start : start + side, start : start + side]
    out = np.stack([cv2.resize(np.ascontiguousarray(f), (48, 48), interpolation=cv2.INTER_LINEAR) for f in faces])
    return out.reshape(x.shape).astype(x.dtype)
