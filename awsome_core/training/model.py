"""The emotion CNN, its optimizer, schedule and losses (in the spirit of nanoGPT's ``model.py``).

The *backbone* (layer name ``awsome_fer``) is the inference network: 48×48×1 pixels in [0, 255] → 7 float32
softmax probabilities in EMOTIONS order. The *training model* wraps it, compiled with SGD (Nesterov) on an
SGDR schedule, or SGDR then constant for weight averaging (``swa.py``), and a cross-entropy loss, or the
distillation loss when the run learns from a teacher (targets are then 14 columns: labels, then the
teacher's tempered probabilities).

Everything is plain Keras 3, so it runs under any backend. Importing this module imports Keras and
registers the custom schedule and loss that a saved ``last.keras`` names: only training code imports it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before Keras imports TensorFlow

import keras
import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.training.config import TrainConfig

logger = logging.getLogger(__name__)

BACKBONE_NAME = "awsome_fer"
K = len(EMOTIONS)


def build_backbone(cfg: TrainConfig) -> Any:
    """The inference network: 48×48×1 pixels in [0, 255] → 7 probabilities (float32 softmax)."""
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
    logits = layers.Dense(K, kernel_regularizer=reg)(h)
    probs = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probs, name=BACKBONE_NAME)


@keras.saving.register_keras_serializable(package="awsome")
class SgdrThenConstant(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]  # untyped Keras
    """SGDR (cosine with warm restarts, cycles doubling) that stays at ``swa_lr`` from ``swa_start_step`` on."""

    def __init__(self, lr: float, first_cycle_steps: int, min_lr_ratio: float, swa_start_step: int, swa_lr: float):
        self.lr, self.first_cycle_steps, self.min_lr_ratio = lr, first_cycle_steps, min_lr_ratio
        self.swa_start_step, self.swa_lr = swa_start_step, swa_lr
        self.sgdr = keras.optimizers.schedules.CosineDecayRestarts(
            lr, first_decay_steps=first_cycle_steps, t_mul=2.0, m_mul=1.0, alpha=min_lr_ratio
        )

    def __call__(self, step: Any) -> Any:
        sgdr = self.sgdr(step)
        constant = keras.ops.cast(self.swa_lr, sgdr.dtype)
        return keras.ops.where(keras.ops.cast(step, "int64") >= self.swa_start_step, constant, sgdr)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "first_cycle_steps": self.first_cycle_steps,
            "min_lr_ratio": self.min_lr_ratio,
            "swa_start_step": self.swa_start_step,
            "swa_lr": self.swa_lr,
        }


@keras.saving.register_keras_serializable(package="awsome")
class DistillationLoss(keras.losses.Loss):  # type: ignore[misc]  # untyped Keras
    """Knowledge distillation (Hinton et al., 2015) for a student that outputs probabilities.

    ``y_true`` is N×14: the label targets (one-hot mixed with FERPlus votes), then the teacher's probabilities
    at ``temperature``. The loss is ``(1 - alpha) * CE(labels, p) + alpha * T² * KL(teacher_T || softmax(log p / T))``;
    ``softmax(log p / T)`` equals the student's logits softened by T, since a softmax ignores a constant shift.
    """

    def __init__(self, temperature: float = 2.0, alpha: float = 0.7, name: str = "distillation", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.temperature, self.alpha = float(temperature), float(alpha)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        ops, eps = keras.ops, 1e-7
        y_true = ops.cast(y_true, "float32")
        log_p = ops.log(ops.clip(ops.cast(y_pred, "float32"), eps, 1.0))
        labels, teacher = y_true[:, :K], y_true[:, K:]
        hard = -ops.sum(labels * log_p, axis=-1)
        student_t = ops.log_softmax(log_p / self.temperature, axis=-1)
        soft = ops.sum(teacher * (ops.log(ops.clip(teacher, eps, 1.0)) - student_t), axis=-1)
        return (1.0 - self.alpha) * hard + self.alpha * self.temperature**2 * soft

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="awsome")  # type: ignore[untyped-decorator]  # untyped Keras
def label_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Accuracy against the label part (first 7 columns) of distillation targets."""
    ops = keras.ops
    return ops.cast(ops.equal(ops.argmax(y_true[:, :K], axis=-1), ops.argmax(y_pred, axis=-1)), "float32")


def build_training_model(cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """The backbone wrapped for training and compiled (optimizer, schedule, loss, an ``accuracy`` metric)."""
    backbone = build_backbone(cfg)
    inputs = keras.Input((48, 48, 1), name="pixels")
    model = keras.Model(inputs, backbone(inputs), name="awsome_fer_train")
    cycle = cfg.cycle_epochs * steps_per_epoch
    if cfg.swa_start:
        schedule = SgdrThenConstant(cfg.lr, cycle, cfg.min_lr_ratio, cfg.swa_start * steps_per_epoch, cfg.swa_lr)
    else:
        schedule = keras.optimizers.schedules.CosineDecayRestarts(
            cfg.lr, first_decay_steps=cycle, t_mul=2.0, m_mul=1.0, alpha=cfg.min_lr_ratio
        )
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)
    if cfg.distilling:
        loss: Any = DistillationLoss(cfg.distill_temperature, cfg.distill_alpha)
        metric: Any = keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")
    else:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
        metric = "accuracy"
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    return model


def committed_backbone(folder: Path) -> Path | None:
    """The one backbone a run folder holds: the weight average (swa.keras) if the run averaged, else
    best.keras; None if neither is there."""
    return next((p for p in (folder / "swa.keras", folder / "best.keras") if p.exists()), None)


def backbone_of(model: Any) -> Any:
    """The ``awsome_fer`` backbone inside a training model (or the model itself if it is one)."""
    return model.get_layer(BACKBONE_NAME) if any(layer.name == BACKBONE_NAME for layer in model.layers) else model


def warm_start(cfg: TrainConfig, steps_per_epoch: int, weights: Path, *, epoch: int) -> Any:
    """A training model carrying the weights of *weights*, a weights-only checkpoint, at *epoch*.

    Committed checkpoints hold the backbone alone (a third the size; no optimizer state), so
    continuing one is not bit-exact: momentum restarts from zero, while the learning-rate schedule
    goes on from *epoch* (the optimizer's step counter is set to where that epoch ended).
    """
    model = build_training_model(cfg, steps_per_epoch)
    saved = keras.saving.load_model(weights, compile=False)
    backbone_of(model).set_weights(backbone_of(saved).get_weights())
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(epoch * steps_per_epoch)
    logger.warning("warm start from %s at epoch %d: weights only, optimizer momentum starts at zero", weights, epoch)
    return model


def reseed(model: Any, seed: int) -> None:
    """Set every random layer's seed state (dropout) from *seed*.

    Called at the start of each epoch with a value derived from (config seed, epoch), so a run
    resumed from a checkpoint draws exactly the random numbers an uninterrupted run would.
    """
    generators = [
        value
        for layer in model._flatten_layers(include_self=True, recursive=True)
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]
    for i, generator in enumerate(generators):
        generator.state.assign(np.array([(seed + 7919 * i) % 2**32, 0], dtype=generator.state.dtype))


def predict_probabilities(backbone: Any, x: np.ndarray, *, tta: bool = False, batch: int = 256) -> np.ndarray:
    """Probabilities (N×7 float64) for N×48×48(×1) uint8 faces; ``tta`` averages with the mirrored face."""
    x = x.reshape(-1, 48, 48, 1).astype(np.float32)
    out = []
    for i in range(0, len(x), batch):
        b = x[i : i + batch]
        p = np.asarray(backbone.predict_on_batch(b), dtype=np.float64)
        if tta:
            p = (p + np.asarray(backbone.predict_on_batch(np.ascontiguousarray(b[:, :, ::-1])), dtype=np.float64)) / 2
        out.append(p)
    return np.concatenate(out) if out else np.zeros((0, K))
