"""The training configuration: one ``TrainConfig`` dataclass, its presets and ``--set`` overrides.

Shared by every training module (nanoGPT keeps ``GPTConfig`` beside its model; here the config has a
module of its own so that ``data``, ``model``, ``swa`` and ``train`` all import it and none imports another
in a circle). Plain values only: no Keras, no numpy.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

# Fields that shape the weights: a warm start must keep them; every other field (learning rate,
# label mixing, regularisation, ...) may change when a run goes on from a committed checkpoint.
ARCHITECTURE_FIELDS = ("widths", "convs_per_block", "dense_units")
# Fields a resumed run may change: where the data lies and how long the run goes on.
RESUMABLE_FIELDS = ("data_dir", "epochs")


@dataclass
class TrainConfig:
    data_dir: str = "../shared/data/fer2013"  # holds fer2013_train.npz and fer2013_val.npz
    widths: tuple[int, ...] = (48, 96, 192, 384)  # channels per VGG block (convs_per_block convs, then 2x2 max-pool)
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
    zoom: tuple[float, float] = (0.85, 1.15)  # augmentation scale range; > 1 zooms in (a tighter crop of the face)
    mixup_alpha: float = 0.0  # > 0: each face blended with another, weight ~ Beta(alpha, alpha) (mixup)
    cutmix_prob: float = 0.0  # share of faces given a patch of another face, targets mixed by area (cutmix)
    teacher: tuple[str, ...] = ()  # distil from: ensemble members (.keras / .tflite / run folders) or a .npz
    distill_temperature: float = 2.0  # softmax temperature of teacher and student in the distillation term
    distill_alpha: float = 0.7  # loss = (1 - alpha) * CE(labels) + alpha * T^2 * KL(teacher_T || student_T)
    teacher_tta: str = "flip"  # the members' TTA when they score the training faces ("none", "flip", "shift")
    limit_train: int = 0  # >0: use only the first N training rows (debug)
    limit_val: int = 0
    seed: int = 1337
    preset: str = "vgg"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def distilling(self) -> bool:
        """Whether this run learns from a teacher's soft targets (``teacher`` set and ``distill_alpha`` > 0)."""
        return bool(self.teacher) and self.distill_alpha > 0


PRESETS: dict[str, dict[str, Any]] = {
    "vgg": {},
    "small": {"widths": (32, 64, 128, 256), "dense_units": 256, "epochs": 30},
    # The served shape (its latency: scripts/bench_vision.py, the card: models/README.md).
    "wide": {"widths": (64, 128, 256, 512), "dense_units": 512},
    # Ensemble members that differ in more than the seed (scripts/device_ensemble.sh trains them).
    "deep": {"widths": (64, 128, 256, 512), "convs_per_block": 3, "dense_units": 512},
    "wide-mix": {"widths": (64, 128, 256, 512), "dense_units": 512, "mixup_alpha": 0.2, "cutmix_prob": 0.3},
    # Crops that vary in tightness: zoomed in up to 1.4x (the central 71%), as the app's and posed-face crops are.
    "robust": {"widths": (64, 128, 256, 512), "dense_units": 512, "zoom": (0.85, 1.4), "ferplus_weight": 0.5},
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

_TUPLE_FIELDS = ("widths", "zoom", "teacher")


def make_config(preset: str, **overrides: Any) -> TrainConfig:
    """Return the preset's config with *overrides* applied (``None`` values ignored; unknown names raise
    ``TypeError``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    for name in _TUPLE_FIELDS:
        if name in values:
            raw = values[name]
            values[name] = (raw,) if isinstance(raw, str) else tuple(raw)
    return TrainConfig(preset=preset, **values)


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The config as JSON-friendly values (tuples as lists), as ``config.json`` and the card store it."""
    d = dataclasses.asdict(cfg)
    for name in _TUPLE_FIELDS:
        d[name] = list(getattr(cfg, name))
    return d


def comparable(saved: dict[str, Any], cfg: TrainConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(saved, mine)`` restricted to the fields a resumed run must keep; a field a run's ``config.json``
    predates counts as its default (so runs written before the field existed still resume)."""
    mine = config_dict(cfg)
    defaults = config_dict(TrainConfig())
    keys = [k for k in mine if k not in RESUMABLE_FIELDS]
    return {k: saved.get(k, defaults[k]) for k in keys}, {k: mine[k] for k in keys}


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
