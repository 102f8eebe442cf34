"""FER2013 for training: loading with FERPlus soft targets, the per-epoch order, host-side augmentation.

Everything here is numpy and OpenCV, so ``train.py`` runs unchanged under any Keras backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from awsome_core.emotions import EMOTIONS

if TYPE_CHECKING:
    from pathlib import Path

    from awsome_core.training.train import TrainConfig

# FERPlus vote columns -> FER2013 classes (anger, disgust, fear, happiness, sadness, surprise, neutral).
FERPLUS_TO_FER = [4, 5, 6, 1, 3, 2, 0]
FERPLUS_NF_COLUMN = 9


def load_split(path: Path, cfg: TrainConfig, *, train: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(x, targets, y)``: x N×48×48×1 uint8, soft targets N×7 float32, hard labels N."""
    with np.load(path) as data:
        x, y = data["x"], data["y"].astype(np.int64)
        votes = data["ferplus_votes"].astype(np.float32) if "ferplus_votes" in data else None
    limit = cfg.limit_train if train else cfg.limit_val
    if limit:
        x, y = x[:limit], y[:limit]
        votes = votes[:limit] if votes is not None else None
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[y]
    targets = onehot
    if train and votes is not None:
        if cfg.drop_not_face:
            keep = votes[:, FERPLUS_NF_COLUMN] < 10
            x, y, onehot, votes = x[keep], y[keep], onehot[keep], votes[keep]
        if cfg.ferplus_weight > 0:
            mapped = votes[:, FERPLUS_TO_FER]
            mass = mapped.sum(axis=1, keepdims=True)
            soft = np.where(mass > 0, mapped / np.maximum(mass, 1e-6), onehot)
            targets = (1 - cfg.ferplus_weight) * onehot + cfg.ferplus_weight * soft
        else:
            targets = onehot
    return x[..., None], targets.astype(np.float32), y


def shuffled(x: np.ndarray, t: np.ndarray, cfg: TrainConfig, *, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """The epoch's training order, drawn from (seed, epoch) alone so a resumed run sees the same batches.

    Plain numpy arrays (no ``tf.data``) keep the loop backend-agnostic: the same script trains
    with ``KERAS_BACKEND=tensorflow`` on our CPUs and ``KERAS_BACKEND=jax`` on a lent GPU.
    """
    order = np.random.default_rng(cfg.seed * 1000 + epoch).permutation(len(x))
    return x[order], t[order]


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly distorted copy of N×48×48×1 uint8 faces, computed on the host with OpenCV.

    One affine warp per face (mirror with p=0.5, rotation ±18°, zoom ±15%, shift ±10%, reflected borders),
    then contrast ×[0.7, 1.3] about the face's mean and, with p=0.5, random erasing of 2–20% of the
    area with noise. About a second per epoch on one core. It used to be Keras preprocessing layers
    inside the model; under JAX those cost more than the network itself, and the host does this for free
    while the accelerator trains.
    """
    import cv2

    n = len(x)
    out = np.empty_like(x)
    flip = rng.random(n) < 0.5
    angle = rng.uniform(-18.0, 18.0, n)
    scale = rng.uniform(0.85, 1.15, n)
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
