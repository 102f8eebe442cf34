"""Evaluate the emotion model on any ``.npz`` of faces: accuracy, per-class recall/precision/F1, confusion.

Run commands::

    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta          # the serving TFLite model
    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta --tta-mode shift flip --update-card
                                                                 # also fill the card (what the app serves)
    awsome evaluate --data FILE.npz --checkpoint runs/vgg/best.keras --limit 500 --json report.json
    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta --recrop 0.8   # also tighter crops

The ``.npz`` needs ``x`` (N×48×48 uint8 grayscale faces) and ``y`` (N labels in FER2013 order:
angry, disgust, fear, happy, sad, surprise, neutral), so other test sets work once converted to that.
TTA (test-time augmentation) averages the probabilities of the face and its mirror image (``flip``), or
of the face and its mirror each shifted by 0 and ±2 pixels (``shift``, 10 passes). ``--recrop 0.8`` also
scores the central 80% of each face resized back to 48×48 (a tighter crop, as posed-face sets frame faces).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import AwsomeError
from awsome_core.training.card import Evaluation, RecropEvaluation, load_card
from awsome_core.training.data import recrop
from awsome_core.training.metrics import EvalReport, evaluate_probabilities, format_report
from awsome_core.vision.classifier import TTA_MODES as CLASSIFIER_TTA_MODES
from awsome_core.vision.classifier import tta_views

logger = logging.getLogger(__name__)

Predict = Callable[[np.ndarray], np.ndarray]  # N×48×48 uint8 faces → N×7 probabilities
TTA_MODES = tuple(mode for mode in CLASSIFIER_TTA_MODES if mode != "none")  # what --tta-mode offers


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
    mean: np.ndarray = np.mean([predict(v) for v in tta_views(x, mode)], axis=0)
    return mean


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
        from awsome_core.training.model import predict_probabilities

        backbone, _ = load_float32_backbone(checkpoint)
        return (lambda x: predict_probabilities(backbone, x)), f"Keras checkpoint {checkpoint}"
    from awsome_core.config import Settings
    from awsome_core.vision.classifier import EmotionClassifier

    classifier = EmotionClassifier.load(model or Settings.load().model_path)
    return batched(lambda x: classifier.predict(x, tta=False)), f"TFLite {model} ({classifier.model_version})"


Scores = dict[str, np.ndarray]  # "plain", "tta:<mode>", "recrop:<fraction>", "recrop:<fraction>:tta:<mode>" → N×7


def recrop_key(fraction: float) -> str:
    """How a re-crop fraction is named in scores, the card and the CLI (``0.8`` → ``"0.8"``)."""
    return f"{fraction:g}"


def score_views(predict: Predict, x: np.ndarray, *, tta_modes: Sequence[str], recrops: Sequence[float]) -> Scores:
    """*predict*'s probabilities on the faces, on each TTA mode's views, and on each tighter re-crop."""
    scores: Scores = {}
    for prefix, faces in [("", x), *((f"recrop:{recrop_key(f)}:", recrop(x, f)) for f in recrops)]:
        scores[prefix.rstrip(":") or "plain"] = np.asarray(predict(faces), dtype=np.float64)
        for mode in tta_modes:
            scores[f"{prefix}tta:{mode}"] = tta_probabilities(predict, faces, mode)
    return scores


def evaluation_of(y: np.ndarray, scores: Scores, *, evaluated: str = "") -> Evaluation:
    """The :class:`Evaluation` (card entry) of :func:`score_views`'s scores against labels *y*."""
    reports = {tuple(k.split(":")): evaluate_probabilities(y, v) for k, v in scores.items()}
    tta = {key[1]: r for key, r in reports.items() if key[0] == "tta"}
    recrops = {
        key[1]: RecropEvaluation(
            float(key[1]), r, {k[3]: rr for k, rr in reports.items() if len(k) == 4 and k[1] == key[1]}
        )
        for key, r in reports.items()
        if key[0] == "recrop" and len(key) == 2
    }
    evaluated = evaluated or time.strftime("%Y-%m-%d")
    return Evaluation(rows=len(y), plain=reports[("plain",)], evaluated=evaluated, tta=tta, recrop=recrops)


def format_evaluation(evaluation: Evaluation, title: str) -> str:
    """Every report of *evaluation* as :func:`format_report` tables."""
    parts = [format_report(evaluation.plain, f"{title} without TTA")]
    parts += [format_report(r, f"{title} with {mode} TTA") for mode, r in evaluation.tta.items()]
    for key, rc in evaluation.recrop.items():
        parts.append(format_report(rc.plain, f"{title} re-cropped to the central {key}, without TTA"))
        parts += [format_report(r, f"{title} re-cropped to the central {key}, {m} TTA") for m, r in rc.tta.items()]
    return "\n\n".join(parts)


def update_card(card_path: Path, data: Path, evaluation: Evaluation) -> None:
    """Store *evaluation* in the model card under the data file's stem and re-render the README."""
    from awsome_core.training.card_readme import write_card

    write_card(card_path, load_card(card_path).with_evaluation(Path(data).stem, evaluation))


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
    parser.add_argument(
        "--recrop", nargs="+", type=float, default=[], metavar="FRACTION", help="also score the central FRACTION"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows")
    parser.add_argument("--json", type=Path, default=None, help="write the report(s) as JSON here")
    parser.add_argument(
        "--update-card", action="store_true", help="store the figures in the model's emotion.json + README"
    )
    args = parser.parse_args(argv)
    if args.update_card and (args.checkpoint or args.limit):
        raise AwsomeError("--update-card needs the served TFLite model (--model) and all rows (no --limit)")
    if any(not 0 < f <= 1 for f in args.recrop):
        raise AwsomeError(f"--recrop takes fractions in (0, 1], got {args.recrop}")
    x, y = load_faces(args.data, args.limit)
    predict, description = make_predictor(model=args.model, checkpoint=args.checkpoint)
    t0 = time.perf_counter()
    modes = list(dict.fromkeys(args.tta_mode)) if args.tta else []
    evaluation = evaluation_of(y, score_views(predict, x, tta_modes=modes, recrops=args.recrop))
    logger.info("evaluated %d faces with %s in %.1f s", len(y), description, time.perf_counter() - t0)
    sys.stdout.write(format_evaluation(evaluation, args.data.name) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"model": description, **evaluation.to_dict()}, indent=2))
    if args.update_card:
        from awsome_core.config import Settings
        from awsome_core.vision.classifier import card_path_for

        update_card(card_path_for(args.model or Settings.load().model_path), args.data, evaluation)
    return 0


__all__ = [
    "EvalReport",
    "confusion_figure",
    "evaluate_probabilities",
    "evaluation_of",
    "format_report",
    "load_faces",
    "main",
    "make_predictor",
    "score_views",
    "tta_probabilities",
    "update_card",
]
