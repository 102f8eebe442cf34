"""Stochastic weight averaging (Izmailov et al., 2018) for the training loop in ``train.py``.

After ``swa_start`` epochs the learning rate stays at ``swa_lr`` and the weights at the end of
every epoch are averaged into one model. The average is a single network of the same shape (it
exports and serves exactly like any checkpoint); its BatchNorm statistics belong to none of the
averaged weights, so they are recomputed with one pass over training images before it is used. The
learning-rate schedule (SGDR, then constant) is ``model.SgdrThenConstant``.

Everything here is plain Keras 3 (no TensorFlow calls), so it runs under any backend. Importing this
module imports Keras: only the training code does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from awsome_core.training.data import augment
from awsome_core.training.model import build_backbone, predict_probabilities

if TYPE_CHECKING:
    from awsome_core.training.config import TrainConfig

logger = logging.getLogger(__name__)


def fold_in(average: list[np.ndarray] | None, weights: list[np.ndarray], count: int) -> list[np.ndarray]:
    """The running mean of *count* earlier weight lists (*average*) with one more (*weights*)."""
    if average is None or count == 0:
        return [np.array(w, dtype=np.float64) for w in weights]
    return [a + (np.asarray(w, dtype=np.float64) - a) / (count + 1) for a, w in zip(average, weights, strict=True)]


def batchnorm_layers(model: Any) -> list[Any]:
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def recompute_batchnorm(model: Any, x: np.ndarray, *, batch: int = 256) -> int:
    """Set every BatchNorm layer's moving statistics to the mean over batches of *x* in training mode.

    The layers' momentum is set before each batch so that the moving average becomes the plain
    running mean (momentum k/(k+1) for the k-th batch); the model runs eagerly so the layers read
    it. Returns the number of batches used. The weights other than the statistics are untouched.
    """
    layers = batchnorm_layers(model)
    saved_momentum = [layer.momentum for layer in layers]
    for layer in layers:
        layer.moving_mean.assign(keras.ops.zeros_like(layer.moving_mean))
        layer.moving_variance.assign(keras.ops.ones_like(layer.moving_variance))
    batches = 0
    try:
        for start in range(0, len(x), batch):
            for layer in layers:
                layer.momentum = batches / (batches + 1)
            model(x[start : start + batch].astype(np.float32), training=True)
            batches += 1
    finally:
        for layer, momentum in zip(layers, saved_momentum, strict=True):
            layer.momentum = momentum
    logger.info("recomputed %d BatchNorm layers' statistics over %d batches", len(layers), batches)
    return batches


def fold_epoch(
    cfg: TrainConfig,
    backbone: Any,
    out_dir: Path,
    state: dict[str, Any],
    x_tr: np.ndarray,
    x_va: np.ndarray,
    y_va: np.ndarray,
    *,
    epoch: int,
) -> dict[str, Any]:
    """Fold this epoch's weights into ``swa.keras`` (stochastic weight averaging) and score the average.

    The average's BatchNorm statistics are recomputed on ``swa_bn_rows`` augmented training faces
    (drawn from the seed and epoch, so a resumed run repeats them) before it is scored and saved.
    """
    swa_path = out_dir / "swa.keras"
    count = int(state.get("swa_n", 0))
    average = None
    if count and swa_path.exists():
        average = keras.saving.load_model(swa_path, compile=False).get_weights()
    average = fold_in(average, backbone.get_weights(), count)
    averaged = build_backbone(cfg)
    averaged.set_weights([a.astype(np.float32) for a in average])
    rng = np.random.default_rng([cfg.seed, epoch, 2])
    rows = rng.permutation(len(x_tr))[: cfg.swa_bn_rows or len(x_tr)]
    recompute_batchnorm(averaged, augment(x_tr[np.sort(rows)], rng, zoom=cfg.zoom), batch=cfg.batch_size * 4)
    probs = predict_probabilities(averaged, x_va[..., 0])
    flipped = predict_probabilities(averaged, x_va[..., 0], tta=True)
    acc, acc_flip = float((probs.argmax(1) == y_va).mean()), float((flipped.argmax(1) == y_va).mean())
    averaged.save(swa_path)
    state["swa_n"] = count + 1
    if acc > state.get("swa_best_acc", 0.0):
        state["swa_best_acc"], state["swa_best_epoch"] = acc, epoch + 1
        averaged.save(out_dir / "swa_best.keras")
    return {"swa_models": count + 1, "swa_val_acc": acc, "swa_val_acc_flip": acc_flip}
