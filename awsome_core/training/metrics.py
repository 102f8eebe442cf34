"""Metrics of an evaluation as a typed, frozen value: accuracy, per-class recall/precision/F1, confusion.

Pure numpy (no model, no plotly), so the model card (``card.py``) and the app can read reports without
importing anything heavy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS


@dataclass(frozen=True)
class EvalReport:
    """Metrics of one evaluation. Per-class tuples follow ``labels`` (EMOTIONS order); ``confusion[i][j]``
    counts faces of true class *i* predicted as *j*. A class without support (or never predicted) gets
    recall (or precision) 0."""

    labels: tuple[str, ...]
    rows: int
    accuracy: float
    macro_f1: float
    support: tuple[int, ...]
    recall: tuple[float, ...]
    precision: tuple[float, ...]
    f1: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy (lists instead of tuples)."""
        out: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return out

    @property
    def lowest_recall(self) -> tuple[str, float]:
        """The class recalled least (among those with support) and its recall."""
        pairs = [(r, label) for label, r, n in zip(self.labels, self.recall, self.support, strict=True) if n > 0]
        recall, label = min(pairs) if pairs else (0.0, "")
        return label, recall

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        """Inverse of :meth:`to_dict`, e.g. for ``emotion.json["evaluation"][name]["plain"]`` (About page)."""
        tuples = {
            k: tuple(tuple(r) for r in v) if k == "confusion" else tuple(v)
            for k, v in data.items()
            if isinstance(v, list)
        }
        return cls(**{**data, **tuples})


def evaluate_probabilities(y: np.ndarray, probs: np.ndarray, *, labels: tuple[str, ...] = EMOTIONS) -> EvalReport:
    """Metrics of N×K probabilities (or scores) against N integer labels in *labels* order."""
    y = np.asarray(y).astype(np.int64).ravel()
    probs = np.asarray(probs)
    k = len(labels)
    if probs.ndim != 2 or probs.shape != (len(y), k):
        raise ValueError(f"expected probabilities of shape ({len(y)}, {k}), got {probs.shape}")
    if len(y) and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (y, probs.argmax(1)), 1)
    tp = np.diag(confusion).astype(np.float64)
    support, predicted = confusion.sum(1), confusion.sum(0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    return EvalReport(
        labels=tuple(labels),
        rows=len(y),
        accuracy=float(tp.sum() / max(1, len(y))),
        macro_f1=float(f1.mean()),
        support=tuple(int(v) for v in support),
        recall=tuple(round(float(v), 6) for v in recall),
        precision=tuple(round(float(v), 6) for v in precision),
        f1=tuple(round(float(v), 6) for v in f1),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
    )


def format_report(report: EvalReport, title: str = "") -> str:
    """A readable text table: accuracy, per-class figures and the confusion matrix."""
    width = max(len(label) for label in report.labels) + 2
    out = [f"{title}  rows={report.rows}  accuracy={100 * report.accuracy:.2f}%  macro-F1={report.macro_f1:.3f}"]
    out.append(
        f"{'':<{width}}{'support':>8}{'recall':>8}{'prec.':>8}{'F1':>8}   predicted: "
        + " ".join(f"{lab[:5]:>5}" for lab in report.labels)
    )
    for i, label in enumerate(report.labels):
        row = " ".join(f"{v:>5}" for v in report.confusion[i])
        out.append(
            f"{label:<{width}}{report.support[i]:>8}{100 * report.recall[i]:>7.1f}%{100 * report.precision[i]:>7.1f}%"
            f"{report.f1[i]:>8.3f}              {row}"
        )
    return "\n".join(out)
