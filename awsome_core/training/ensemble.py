"""Ensembles of emotion models: score the mean of their probabilities, and write their soft targets.

Run commands::

    awsome ensemble evaluate --members runs/a runs/b models/training/wide64-swa \\
        --data ../shared/data/fer2013/fer2013_val.npz --tta --recrop 0.8     # per member and together
    awsome ensemble evaluate --members ... --data .../fer2013_val.npz --tta --recrop 0.8 \\
        --update-card models/emotion.json                                    # the card's side-by-side table
    awsome ensemble soft-targets --members runs/a runs/b --data .../fer2013_train.npz --out runs/teacher.npz
    awsome train --config wide --out runs/student --teacher runs/teacher.npz  # distil (or --teacher runs/a runs/b)
    awsome ensemble add-to-card --json ensemble.json --card models/emotion.json   # figures scored elsewhere (GPU)

A member is a run folder (its ``swa.keras``, else ``best.keras``), a ``.keras`` checkpoint or a served
``.tflite`` (with its ``.json`` card beside it). The ensemble's probabilities are the plain mean of the
members' (each with the same TTA). A soft-target file holds every member's log-probabilities on every
row of one data file, in the file's order (``log_probs``: M×N×7 float32), with the members' names and a
checksum of the pixels, so a training run picks its rows after its own filters and refuses a file made
from other faces; the temperature is applied when training reads it.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from awsome_core.errors import AwsomeError
from awsome_core.training.card import EnsembleInfo, MemberFigures, load_card
from awsome_core.training.evaluate import (
    TTA_MODES,
    Predict,
    Scores,
    batched,
    evaluation_of,
    format_evaluation,
    load_faces,
    score_views,
    tta_probabilities,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    """A loaded ensemble member: a batch predictor (N×48×48 uint8 → N×7) and what it is."""

    name: str
    source: Path
    predict: Predict
    parameters: int | None
    training_seconds: float | None


def resolve_member(spec: str | Path) -> Path:
    """The model file a member spec names: a run folder's backbone, or the ``.keras`` / ``.tflite`` itself."""
    path = Path(spec)
    if path.is_dir():
        from awsome_core.training.model import committed_backbone

        found = committed_backbone(path)
        if found is None:
            raise AwsomeError(f"{path} holds neither swa.keras nor best.keras")
        return found
    if path.suffix not in (".keras", ".tflite") or not path.is_file():
        raise AwsomeError(f"an ensemble member is a run folder, a .keras or a .tflite file; got {spec}")
    return path


def load_member(spec: str | Path) -> Member:
    """Load one member (Keras members as float32 backbones, TFLite ones on the serving interpreter)."""
    path = resolve_member(spec)
    name = path.parent.name if path.suffix == ".keras" else path.stem
    if path.suffix == ".tflite":
        from awsome_core.vision.classifier import EmotionClassifier

        classifier = EmotionClassifier.load(path)
        card = classifier.model_card
        seconds = card.training.seconds_to_epoch if card.training else None
        return Member(
            card.model_version, path, batched(lambda x: classifier.predict(x, tta=False)), card.parameters, seconds
        )
    from awsome_core.training.export import load_float32_backbone, run_info
    from awsome_core.training.model import predict_probabilities

    backbone, _ = load_float32_backbone(path)
    seconds = run_info(path).get("seconds_to_epoch") if (path.parent / "log.jsonl").is_file() else None
    predict: Predict = lambda x: predict_probabilities(backbone, x)  # noqa: E731
    return Member(name, path, predict, int(backbone.count_params()), seconds)


def mean_scores(scores: Sequence[Scores]) -> Scores:
    """The ensemble's scores: the mean of the members' probabilities, view by view."""
    return {key: np.mean([s[key] for s in scores], axis=0) for key in scores[0]}


def evaluate_ensemble(
    members: Sequence[Member],
    x: np.ndarray,
    y: np.ndarray,
    *,
    data: str,
    tta_modes: Sequence[str],
    recrops: Sequence[float],
    hardware: str = "",
) -> EnsembleInfo:
    """Every member's figures and the ensemble's, on the same faces and views."""
    scores, figures = [], []
    for member in members:
        t0 = time.perf_counter()
        s = score_views(member.predict, x, tta_modes=tta_modes, recrops=recrops)
        e = evaluation_of(y, s)
        logger.info("scored %s in %.1f s", member.name, time.perf_counter() - t0)
        scores.append(s)
        figures.append(
            MemberFigures(
                name=member.name,
                source=str(member.source),
                parameters=member.parameters,
                accuracy=e.plain.accuracy,
                recall=e.plain.recall,
                tta_accuracy={mode: r.accuracy for mode, r in e.tta.items()},
                recrop_accuracy={key: r.plain.accuracy for key, r in e.recrop.items()},
                training_seconds=member.training_seconds,
            )
        )
    return EnsembleInfo(data, tuple(figures), evaluation_of(y, mean_scores(scores)), hardware)


def format_members(info: EnsembleInfo) -> str:
    """One line per member: accuracy (plain, each TTA mode, each re-crop) and per-class recall."""
    lines = []
    for m in info.members:
        figures = [f"{100 * m.accuracy:.2f}%"]
        figures += [f"{mode} {100 * a:.2f}%" for mode, a in m.tta_accuracy.items()]
        figures += [f"re-crop {key} {100 * a:.2f}%" for key, a in m.recrop_accuracy.items()]
        recall = " ".join(
            f"{lab[:5]} {100 * r:.0f}%" for lab, r in zip(info.evaluation.plain.labels, m.recall, strict=True)
        )
        lines.append(f"member {m.name} ({m.parameters or 0:,} params): {', '.join(figures)}; recall {recall}")
    return "\n".join(lines)


def pixels_sha256(x: np.ndarray) -> str:
    """Checksum of a data file's faces (ties a soft-target file to the faces it was computed on)."""
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.uint8).tobytes()).hexdigest()


def write_soft_targets(members: Sequence[Member], data: Path, out: Path, *, tta: str = "flip") -> Path:
    """Each member's log-probabilities (with *tta*) on every row of *data*, saved to *out* (``.npz``)."""
    x, _ = load_faces(data)
    log_probs = []
    for member in members:
        t0 = time.perf_counter()
        probs = tta_probabilities(member.predict, x, tta) if tta != "none" else member.predict(x)
        log_probs.append(np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0)).astype(np.float32))
        logger.info("soft targets of %s on %d faces in %.1f s", member.name, len(x), time.perf_counter() - t0)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        log_probs=np.stack(log_probs),
        members=np.array([str(m.source) for m in members]),
        pixels_sha256=np.array(pixels_sha256(x)),
        tta=np.array(tta),
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="awsome ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    ev = sub.add_parser("evaluate", help="score each member and the mean of their probabilities")
    ev.add_argument("--members", nargs="+", required=True, help="run folders, .keras or .tflite files")
    ev.add_argument("--data", type=Path, required=True)
    ev.add_argument("--tta", action="store_true", help="also with test-time augmentation")
    ev.add_argument("--tta-mode", nargs="+", choices=TTA_MODES, default=["flip"])
    ev.add_argument("--recrop", nargs="+", type=float, default=[], metavar="FRACTION")
    ev.add_argument("--limit", type=int, default=0)
    ev.add_argument("--hardware", default="", help="where the members were trained (for the card)")
    ev.add_argument("--json", type=Path, default=None)
    ev.add_argument("--update-card", type=Path, default=None, metavar="EMOTION_JSON", help="store it in this card")
    st = sub.add_parser("soft-targets", help="write the members' log-probabilities on a data file (distillation)")
    st.add_argument("--members", nargs="+", required=True)
    st.add_argument("--data", type=Path, required=True, help="the training .npz (every row is scored)")
    st.add_argument("--out", type=Path, required=True)
    st.add_argument("--tta", choices=("none", *TTA_MODES), default="flip")
    ad = sub.add_parser("add-to-card", help="store an ensemble's figures (evaluate --json) in a model card")
    ad.add_argument("--json", type=Path, required=True)
    ad.add_argument("--card", type=Path, required=True, metavar="EMOTION_JSON")
    args = parser.parse_args(argv)
    if args.action == "add-to-card":
        add_to_card(args.card, EnsembleInfo.from_dict(json.loads(args.json.read_text(encoding="utf-8"))))
        return 0
    members = [load_member(m) for m in args.members]
    if args.action == "soft-targets":
        logger.info("wrote %s", write_soft_targets(members, args.data, args.out, tta=args.tta))
        return 0
    if args.update_card and args.limit:
        raise AwsomeError("--update-card needs all rows (no --limit)")
    x, y = load_faces(args.data, args.limit)
    modes = list(dict.fromkeys(args.tta_mode)) if args.tta else []
    info = evaluate_ensemble(
        members, x, y, data=args.data.name, tta_modes=modes, recrops=args.recrop, hardware=args.hardware
    )
    sys.stdout.write(format_members(info) + "\n\n")
    sys.stdout.write(format_evaluation(info.evaluation, f"ensemble of {len(members)} on {args.data.name}") + "\n")
    if args.json:
        args.json.write_text(json.dumps(info.to_dict(), indent=2))
    if args.update_card:
        add_to_card(args.update_card, info)
    return 0


def add_to_card(card_path: Path, info: EnsembleInfo) -> None:
    """Store *info* as the card's ``ensemble`` section (shown beside the served student) and re-render."""
    from awsome_core.training.card_readme import write_card

    write_card(card_path, dataclasses.replace(load_card(card_path), ensemble=info))
