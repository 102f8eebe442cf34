"""Evaluate the emotion model on any ``.npz`` of faces: accuracy, per-class recall/precision/F1, confusion.

Run commands::

    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta          # the serving TFLite model
    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta --tta-mode shift flip --update-card
                                                                 # also fill the card (what the app serves)
    awsome evaluate --data FILE.npz --checkpoint runs/vgg/best.keras --limit 500 --json report.json

The ``.npz`` needs ``x`` (N×48×48 uint8 grayscale faces) and ``y`` (N labels in FER2013 order:
angry, disgust, fear, happy, sad, surprise, neutral), so other test sets work once converted to that.
TTA (test-time augmentation) averages the probabilities of the face and its mirror image (``flip``), or
of the face and its mirror each shifted by 0 and ±2 pixels (``shift``, 10 passes).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import AwsomeError
from awsome_core.vision.classifier import TTA_MODES as CLASSIFIER_TTA_MODES
from awsome_core.vision.classifier import tta_views

logger = logging.getLogger(__name__)

Predict = Callable[[np.ndarray], np.ndarray]  # N×48×48 uint8 faces → N×7 probabilities
TTA_MODES = tuple(mode for mode in CLASSIFIER_TTA_MODES if mode != "none")  # what --tta-mode offers


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
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
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


def confusion_figure(report: EvalReport, *, title: str = "Confusion matrix (share of each true emotion)") -> Any:
    """A plotly heatmap: rows are true emotions, columns predictions; colour = row share, text = count."""
    import plotly.graph_objects as go

    counts = np.array(report.confusion, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    text = [
        [f"{int(c)}<br>{100 * s:.0f}%" for c, s in zip(cr, sr, strict=True)]
        for cr, sr in zip(counts, shares, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=shares,
            x=list(report.labels),
            y=list(report.labels),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": "share"},
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed")
    return fig


def tta_probabilities(predict: Predict, x: np.ndarray, mode: str = "flip") -> np.ndarray:
    """Average *predict* over the face and its mirror (``flip``), plus ±2 px shifts of both (``shift``)."""
    if mode not in TTA_MODES:
        raise ValueError(f"unknown TTA mode {mode!r}; choose one of {TTA_MODES}")
    return np.mean([predict(v) for v in tta_views(x, mode)], axis=0)


def load_faces(path: Path, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` from an ``.npz``; raise :class:`AwsomeError` with a readable reason if it does not fit."""
    if not Path(path).is_file():
        raise AwsomeError(f"No data file at {path}")
    with np.load(path) as data:
        if "x" not in data or "y" not in data:
            raise AwsomeError(
                f"{path} needs arrays 'x' (N×48×48 uint8) and 'y' (N labels); it has {sorted(data.files)}"
            )
        x, y = data["x"], data["y"].astype(np.int64)
    x = x[..., 0] if x.ndim == 4 and x.shape[-1] == 1 else x
    if x.ndim != 3 or x.shape[1:] != (48, 48) or len(x) != len(y):
        raise AwsomeError(f"{path}: x must be N×48×48 and y N long; got x {x.shape}, y {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= len(EMOTIONS)):
        raise AwsomeError(f"{path}: labels must be 0..{len(EMOTIONS) - 1} in FER2013 order {EMOTIONS}")
    if x.dtype != np.uint8:
        x = np.clip(x, 0, 255).astype(np.uint8)
    return (x[:limit], y[:limit]) if limit else (x, y)


def batched(predict: Predict, batch: int = 256) -> Predict:
    """Wrap *predict* to run in batches of *batch* faces."""
    return lambda x: np.concatenate(
        [predict(x[i : i + batch]) for i in range(0, len(x), batch)] or [np.zeros((0, len(EMOTIONS)))]
    )


def make_predictor(*, model: Path | None, checkpoint: Path | None) -> tuple[Predict, str]:
    """A batch predictor and a description, from a TFLite model (default: the served one) or a checkpoint."""
    if checkpoint is not None:
        from awsome_core.training.export import load_float32_backbone
        from awsome_core.training.train import predict_probabilities

        backbone, _ = load_float32_backbone(checkpoint)
        return (lambda x: predict_probabilities(backbone, x)), f"Keras checkpoint {checkpoint}"
    from awsome_core.config import Settings
    from awsome_core.vision.classifier import EmotionClassifier

    classifier = EmotionClassifier.load(model or Settings.load().model_path)
    return batched(lambda x: classifier.predict(x, tta=False)), f"TFLite {model} ({classifier.model_version})"


def tta_reports(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An evaluation entry's TTA reports (as dicts) by mode, first the entry's ``tta_mode``; cards written
    before ``tta_by_mode`` existed hold one report under ``tta``."""
    if entry.get("tta_by_mode"):
        return dict(entry["tta_by_mode"])
    return {entry.get("tta_mode", "flip"): entry["tta"]} if entry.get("tta") else {}


def update_card(card_path: Path, data: Path, plain: EvalReport, tta: dict[str, EvalReport]) -> None:
    """Store the figures in the model card under the data file's stem and re-render the README.

    *tta* maps TTA modes to reports; the first is also stored as the entry's ``tta`` / ``tta_mode``.
    """
    from awsome_core.training.card import write_card

    card = json.loads(card_path.read_text(encoding="utf-8"))
    entry: dict[str, Any] = {"rows": plain.rows, "evaluated": time.strftime("%Y-%m-%d"), "plain": plain.to_dict()}
    if tta:
        first = next(iter(tta))
        entry |= {
            "tta_mode": first,
            "tta": tta[first].to_dict(),
            "tta_by_mode": {mode: report.to_dict() for mode, report in tta.items()},
        }
    card.setdefault("evaluation", {})[Path(data).stem] = entry
    write_card(card_path, card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="awsome evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help=".npz with x (N×48×48 uint8) and y (FER2013 order)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, default=None, help="TFLite model (default: AWSOME_MODEL_PATH)")
    source.add_argument("--checkpoint", type=Path, default=None, help="evaluate a .keras training checkpoint instead")
    parser.add_argument("--tta", action="store_true", help="also report with test-time augmentation")
    parser.add_argument("--tta-mode", nargs="+", choices=TTA_MODES, default=["flip"], help="one or more modes")
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows")
    parser.add_argument("--json", type=Path, default=None, help="write the report(s) as JSON here")
    parser.add_argument(
        "--update-card", action="store_true", help="store the figures in the model's emotion.json + README"
    )
    args = parser.parse_args(argv)
    if args.update_card and (args.checkpoint or args.limit):
        raise AwsomeError("--update-card needs the served TFLite model (--model) and all rows (no --limit)")
    x, y = load_faces(args.data, args.limit)
    predict, description = make_predictor(model=args.model, checkpoint=args.checkpoint)
    t0 = time.perf_counter()
    plain = evaluate_probabilities(y, predict(x))
    modes = dict.fromkeys(args.tta_mode) if args.tta else {}
    tta = {mode: evaluate_probabilities(y, tta_probabilities(predict, x, mode)) for mode in modes}
    logger.info("evaluated %d faces with %s in %.1f s", len(y), description, time.perf_counter() - t0)
    sys.stdout.write(format_report(plain, f"{args.data.name} without TTA") + "\n")
    for mode, report in tta.items():
        sys.stdout.write("\n" + format_report(report, f"{args.data.name} with {mode} TTA") + "\n")
    if args.json:
        reports = {"plain": plain.to_dict(), "tta": {mode: r.to_dict() for mode, r in tta.items()}}
        args.json.write_text(json.dumps({"model": description, **reports}, indent=2))
    if args.update_card:
        from awsome_core.config import Settings
        from awsome_core.vision.classifier import card_path_for

        update_card(card_path_for(args.model or Settings.load().model_path), args.data, plain, tta)
    return 0
