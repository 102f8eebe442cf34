"""The model card (``models/emotion.json``) as a typed, frozen value, read in one place: :func:`load_card`.

``awsome export`` writes it, ``awsome evaluate --update-card`` adds evaluation figures, ``awsome ensemble
evaluate --update-card`` the ensemble's; ``card_readme.py`` renders it as ``models/README.md``. Every
section maps to a dataclass; top-level and training keys this code does not know are kept (``extra``) and
written back, so a card loaded and saved again is the same JSON. No model code is imported: the app reads
it without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awsome_core.errors import ModelError
from awsome_core.training.metrics import EvalReport

SCHEMA = 1


def _extra(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k not in known}


def _reports(data: Mapping[str, Any]) -> dict[str, EvalReport]:
    return {mode: EvalReport.from_dict(report) for mode, report in data.items()}


@dataclass(frozen=True)
class RecropEvaluation:
    """Figures on the same faces re-cropped tighter: the central ``fraction`` resized back to 48×48."""

    fraction: float
    plain: EvalReport
    tta: Mapping[str, EvalReport] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecropEvaluation:
        return cls(float(data["fraction"]), EvalReport.from_dict(data["plain"]), _reports(data.get("tta_by_mode", {})))

    def to_dict(self) -> dict[str, Any]:
        tta = {mode: r.to_dict() for mode, r in self.tta.items()}
        return {"fraction": self.fraction, "plain": self.plain.to_dict(), "tta_by_mode": tta}


@dataclass(frozen=True)
class Evaluation:
    """One data file's figures: without TTA, with each TTA mode (the first is the card's ``tta_mode``), and
    on tighter re-crops keyed by fraction (``"0.8"``)."""

    rows: int
    plain: EvalReport
    evaluated: str = ""
    tta: Mapping[str, EvalReport] = field(default_factory=dict)
    recrop: Mapping[str, RecropEvaluation] = field(default_factory=dict)

    @property
    def tta_mode(self) -> str | None:
        return next(iter(self.tta), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Reads cards written before ``tta_by_mode`` existed too (one report under ``tta``)."""
        if data.get("tta_by_mode"):
            tta = _reports(data["tta_by_mode"])
        elif data.get("tta"):
            tta = {data.get("tta_mode", "flip"): EvalReport.from_dict(data["tta"])}
        else:
            tta = {}
        recrop = {k: RecropEvaluation.from_dict(v) for k, v in data.get("recrop", {}).items()}
        plain = EvalReport.from_dict(data["plain"])
        return cls(int(data.get("rows", plain.rows)), plain, str(data.get("evaluated", "")), tta, recrop)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "evaluated": self.evaluated, "plain": self.plain.to_dict()}
        if self.tta:
            first = next(iter(self.tta))
            out |= {
                "tta_mode": first,
                "tta": self.tta[first].to_dict(),
                "tta_by_mode": {mode: r.to_dict() for mode, r in self.tta.items()},
            }
        if self.recrop:
            out["recrop"] = {k: v.to_dict() for k, v in self.recrop.items()}
        return out


@dataclass(frozen=True)
class TrainingInfo:
    """How the served checkpoint was trained (``export.run_info``): its run, epoch, time, config, hardware."""

    run: str | None = None
    checkpoint: str | None = None
    epoch: int | None = None
    epochs_run: int | None = None
    epochs_planned: int | None = None
    seconds_to_epoch: float | None = None
    val_acc_at_epoch: float | None = None
    averaged_models: int | None = None
    train_acc_at_epoch: float | None = None
    images_per_second: float | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    hardware: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingInfo:
        names = [f.name for f in dataclasses.fields(cls) if f.name != "extra"]
        return cls(**{k: data[k] for k in names if k in data}, extra=_extra(cls, data))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**out, "config": dict(self.config), **self.extra}


@dataclass(frozen=True)
class MemberFigures:
    """One ensemble member on the ensemble's data: accuracy without TTA, with each TTA mode, re-cropped."""

    name: str
    source: str
    parameters: int | None
    accuracy: float
    recall: tuple[float, ...]
    tta_accuracy: Mapping[str, float] = field(default_factory=dict)
    recrop_accuracy: Mapping[str, float] = field(default_factory=dict)
    training_seconds: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemberFigures:
        return cls(**{**data, "recall": tuple(data.get("recall", ()))})

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "recall": list(self.recall)}


@dataclass(frozen=True)
class EnsembleInfo:
    """An ensemble (the mean of its members' probabilities) scored on one data file, beside its members."""

    data: str
    members: tuple[MemberFigures, ...]
    evaluation: Evaluation
    hardware: str = ""

    @property
    def parameters(self) -> int:
        return sum(m.parameters or 0 for m in self.members)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnsembleInfo:
        members = tuple(MemberFigures.from_dict(m) for m in data["members"])
        return cls(str(data["data"]), members, Evaluation.from_dict(data["evaluation"]), str(data.get("hardware", "")))

    def to_dict(self) -> dict[str, Any]:
        members = [m.to_dict() for m in self.members]
        evaluation = self.evaluation.to_dict()
        return {"data": self.data, "members": members, "evaluation": evaluation, "hardware": self.hardware}


@dataclass(frozen=True)
class DistillationInfo:
    """How the served student learnt from its teacher (from the run's config)."""

    teacher: tuple[str, ...]
    temperature: float
    alpha: float
    ferplus_weight: float
    teacher_tta: str = "flip"
    soft_targets: str = ""  # the soft-target file the student read, if it was given one

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistillationInfo:
        return cls(**{**data, "teacher": tuple(data["teacher"])})

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "teacher": list(self.teacher)}


@dataclass(frozen=True)
class ModelCard:
    """``emotion.json``: what the model is, how it was trained and exported, and how well it does."""

    schema: int = SCHEMA
    model_version: str = "unknown"
    file: str = "emotion.tflite"
    sha256: str = ""
    labels: tuple[str, ...] = ()
    input_shape: tuple[int, ...] = ()
    input_dtype: str = "float32"
    input_range: tuple[float, ...] = (0, 255)
    input: str = ""
    output: str = ""
    runtime: str = ""
    serving_tta: str | Mapping[str, str] | None = None  # one TTA mode, or one per use ({"photo": .., "live": ..})
    parameters: int = 0
    data: Mapping[str, str] = field(default_factory=dict)
    training: TrainingInfo | None = None
    export: Mapping[str, Any] = field(default_factory=dict)
    evaluation: Mapping[str, Evaluation] = field(default_factory=dict)
    known_weaknesses: tuple[str, ...] = ()
    distillation: DistillationInfo | None = None
    ensemble: EnsembleInfo | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def serving_mode(self, use: str = "photo") -> str:
        """The TTA mode named for *use* (``"photo"`` or ``"live"``), ``"none"`` when the card names none."""
        value = self.serving_tta
        mode = value.get(use) if isinstance(value, Mapping) else value
        return mode if isinstance(mode, str) else "none"

    def with_evaluation(self, name: str, evaluation: Evaluation) -> ModelCard:
        """A copy with *evaluation* stored under *name* (replacing one of that name, keeping its place)."""
        return dataclasses.replace(self, evaluation={**self.evaluation, name: evaluation})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """The card from its JSON dictionary; missing keys take the defaults, unknown ones go to ``extra``."""
        d = dict(data)
        sections: dict[str, Any] = {
            "labels": tuple(d.get("labels") or ()),
            "input_shape": tuple(d.get("input_shape") or ()),
            "input_range": tuple(d.get("input_range") or (0, 255)),
            "data": dict(d.get("data") or {}),
            "training": TrainingInfo.from_dict(d["training"]) if d.get("training") else None,
            "export": dict(d.get("export") or {}),
            "evaluation": {k: Evaluation.from_dict(v) for k, v in (d.get("evaluation") or {}).items()},
            "known_weaknesses": tuple(d.get("known_weaknesses") or ()),
            "distillation": DistillationInfo.from_dict(d["distillation"]) if d.get("distillation") else None,
            "ensemble": EnsembleInfo.from_dict(d["ensemble"]) if d.get("ensemble") else None,
        }
        names = [f.name for f in dataclasses.fields(cls) if f.name != "extra"]
        plain = {k: d[k] for k in names if k in d and k not in sections}
        return cls(**plain, **sections, extra=_extra(cls, d))

    def to_dict(self) -> dict[str, Any]:
        """The JSON dictionary, keys in the card's order; sections that are ``None`` are left out."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            if isinstance(value, Evaluation | TrainingInfo | DistillationInfo | EnsembleInfo):
                value = value.to_dict()
            elif f.name == "evaluation":
                value = {k: v.to_dict() for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return {**out, **self.extra}


def card_json(card: ModelCard) -> str:
    """The card as ``emotion.json`` text (2-space indent, trailing newline)."""
    return json.dumps(card.to_dict(), indent=2) + "\n"


def load_card(path: Path | str) -> ModelCard:
    """Read ``emotion.json`` at *path*; raise :class:`ModelError` with the reason if it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"The emotion model's card is missing: {path}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ModelCard.from_dict(data)
    except (OSError, json.JSONDecodeError, TypeError, KeyError, AttributeError) as e:
        raise ModelError(f"The emotion model's card {path} cannot be read: {e}") from e


def as_card(card: ModelCard | Mapping[str, Any]) -> ModelCard:
    """*card* itself, or the card of a JSON dictionary."""
    return card if isinstance(card, ModelCard) else ModelCard.from_dict(card)
