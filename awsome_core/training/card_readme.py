"""``models/README.md`` rendered from the model card (:class:`~awsome_core.training.card.ModelCard`).

Every figure in the README comes from the card (written by ``awsome export``, completed by
``awsome evaluate --update-card`` and ``awsome ensemble evaluate --update-card``); the README is never
typed by hand, and a card that did not change renders the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from awsome_core.training.card import Evaluation, ModelCard, TrainingInfo, card_json, load_card
from awsome_core.vision.classifier import serving_tta

TTA_NAMES = {"none": "no TTA", "flip": "mirror (flip) TTA", "shift": "10-view shift TTA (mirror, ±2 px)"}


def write_card(path: Path, card: ModelCard) -> None:
    """Write the card JSON and re-render the README beside it."""
    Path(path).write_text(card_json(card), encoding="utf-8")
    write_readme(path)


def write_readme(card_path: Path) -> Path:
    """Render ``README.md`` beside *card_path* (``emotion.json``) and return its path."""
    card = load_card(card_path)
    model = Path(card_path).with_name(card.file)
    size = f"{model.stat().st_size / 1e6:.2f} MB" if model.is_file() else "missing"
    readme = Path(card_path).with_name("README.md")
    readme.write_text(render_model_card(card, model_size=size), encoding="utf-8")
    return readme


def render_model_card(card: ModelCard, *, model_size: str = "?") -> str:
    """Markdown model card (every figure comes from the card)."""
    lines = [
        "# AWSome emotion model: model card",
        "",
        "_Rendered from `emotion.json` by `awsome export` / `awsome evaluate --update-card`; do not edit by hand._",
        "",
        "| | |",
        "| --- | --- |",
        f"| model version | `{card.model_version}` |",
        f"| file | `{card.file}` ({model_size}, sha256 `{card.sha256[:16]}…`) |",
        f"| labels (output order) | {', '.join(card.labels)} |",
        f"| input | shape {list(card.input_shape)}, {card.input_dtype}: {card.input} |",
        f"| output | {card.output} |",
        f"| runtime | {card.runtime} |",
        f"| served with | {_serving(card)} |",
        f"| parameters | {card.parameters:,} |",
        "",
        "## Data",
        "",
        *[f"- {k}: {v}" for k, v in card.data.items()],
        "",
        *_render_training(card.training or TrainingInfo()),
        *_render_distillation(card),
        *_render_evaluation(card.evaluation),
        *_render_ensemble(card),
        "## Export checks",
        "",
        *[f"- {k}: {v}" for k, v in card.export.items()],
        "",
        "## Known weaknesses",
        "",
        *_weak_classes(card),
        *[f"- {w}" for w in card.known_weaknesses],
        "",
        "## Face detector",
        "",
        "`face_detection_*.tflite` are Google MediaPipe's BlazeFace models (Apache-2.0, see `NOTICE-mediapipe.md`).",
        "",
    ]
    return "\n".join(lines)


def _serving(card: ModelCard) -> str:
    photo, live = (serving_tta(card, use) for use in ("photo", "live"))
    return TTA_NAMES[photo] if photo == live else f"photos: {TTA_NAMES[photo]}; live video: {TTA_NAMES[live]}"


def _render_training(t: TrainingInfo) -> list[str]:
    return [
        "## Training",
        "",
        f"- checkpoint `{t.run}/{t.checkpoint}`: epoch {t.epoch}"
        f"{' (best on PublicTest)' if t.checkpoint == 'best.keras' else ''} of {t.epochs_run} run, "
        f"{t.epochs_planned} planned",
        *_render_averaging(t),
        f"- training time to that epoch: {(t.seconds_to_epoch or 0) / 3600:.1f} h "
        f"({t.images_per_second} images/s median) on {t.hardware}",
        f"- Keras accuracy at that epoch: PublicTest {_pct(t.val_acc_at_epoch)}, "
        f"training (augmented) {_pct(t.train_acc_at_epoch)}",
        "- config: " + ", ".join(f"`{k}={v}`" for k, v in t.config.items() if k != "extra"),
        "",
    ]


def _render_averaging(t: TrainingInfo) -> list[str]:
    count = t.averaged_models
    if not count:
        return []
    last = int(t.epoch or 0)
    return [
        f"- stochastic weight averaging: the mean of the weights after each of epochs {last - count + 1}–{last} "
        f"({count} epochs at a constant learning rate {t.config.get('swa_lr')}), BatchNorm statistics recomputed on "
        f"{t.config.get('swa_bn_rows')} augmented training faces (`awsome_core/training/swa.py`)"
    ]


def _render_distillation(card: ModelCard) -> list[str]:
    d = card.distillation
    if d is None:
        return []
    return [
        "## Distillation",
        "",
        f"- teacher: the mean of {len(d.teacher)} members' probabilities ({', '.join(f'`{m}`' for m in d.teacher)}), "
        f"each with {TTA_NAMES.get(d.teacher_tta, d.teacher_tta)}, on the un-augmented training faces"
        + (f" (soft targets `{Path(d.soft_targets).name}`)" if d.soft_targets else ""),
        f"- loss: (1 − {d.alpha}) × cross-entropy with the labels (one-hot mixed with FERPlus votes, weight "
        f"{d.ferplus_weight}) + {d.alpha} × T² × KL(teacher ‖ student) at temperature T = {d.temperature} "
        "(`awsome_core/training/model.py: DistillationLoss`)",
        "",
    ]


def _accuracies(evaluation: Evaluation) -> str:
    text = f"**{_pct(evaluation.plain.accuracy)}** without TTA"
    return text + "".join(f", **{_pct(r.accuracy)}** with {mode} TTA" for mode, r in evaluation.tta.items())


def _render_evaluation(evaluations: Mapping[str, Evaluation]) -> list[str]:
    lines = ["## Evaluation", ""]
    if not evaluations:
        return [*lines, "_Not evaluated yet: run `awsome evaluate --data FILE.npz --tta --update-card`._", ""]
    for name, entry in evaluations.items():
        plain = entry.plain
        tta = entry.tta.get(entry.tta_mode) if entry.tta_mode else None
        lines += [f"### {name} ({entry.rows} rows, {entry.evaluated})", ""]
        lines += [f"Accuracy {_accuracies(entry)}."]
        for key, recropped in entry.recrop.items():
            recall = ", ".join(f"{lab} {_pct(r)}" for lab, r in zip(plain.labels, recropped.plain.recall, strict=True))
            lines += [
                "",
                f"Re-cropped tighter (the central {_pct(recropped.fraction, 0)} resized to 48×48, `--recrop {key}`): "
                f"{_accuracies(Evaluation(recropped.plain.rows, recropped.plain, tta=recropped.tta))}; "
                f"recall without TTA: {recall}.",
            ]
        lines += [
            "",
            f"| emotion | support | recall | precision | F1 | recall ({entry.tta_mode or 'flip'} TTA) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for i, label in enumerate(plain.labels):
            tta_recall = _pct(tta.recall[i]) if tta else "–"
            lines.append(
                f"| {label} | {plain.support[i]} | {_pct(plain.recall[i])} | {_pct(plain.precision[i])} "
                f"| {plain.f1[i]:.3f} | {tta_recall} |"
            )
        lines += ["", "Confusion matrix (rows: true label, columns: predicted), without TTA:", ""]
        lines += ["| | " + " | ".join(plain.labels) + " |", "| --- |" + " --- |" * len(plain.labels)]
        lines += [
            f"| {lab} | " + " | ".join(map(str, row)) + " |"
            for lab, row in zip(plain.labels, plain.confusion, strict=True)
        ]
        lines.append("")
    return lines


def _render_ensemble(card: ModelCard) -> list[str]:
    ens = card.ensemble
    if ens is None:
        return []
    mode = ens.evaluation.tta_mode
    recrop = next(iter(ens.evaluation.recrop), None)
    head = ["model", "parameters", "accuracy", *([f"{mode} TTA"] if mode else [])]
    head += [f"re-crop {recrop}"] if recrop else []
    lines = [
        "## Ensemble and student",
        "",
        f"On {ens.data}; the ensemble averages its members' probabilities (members' training: {ens.hardware}).",
        "",
        "| " + " | ".join([*head, "lowest recall", "training"]) + " |",
        "| --- |" + " --- |" * (len(head) + 1),
    ]
    for m in ens.members:
        cells = [f"`{m.name}`", f"{m.parameters or 0:,}", _pct(m.accuracy)]
        cells += [_pct(m.tta_accuracy.get(mode))] if mode else []
        cells += [_pct(m.recrop_accuracy.get(recrop))] if recrop else []
        low = min(zip(m.recall, card.labels or ens.evaluation.plain.labels, strict=False), default=(None, ""))
        hours = f"{m.training_seconds / 3600:.2f} h" if m.training_seconds else "?"
        lines.append("| " + " | ".join([*cells, f"{low[1]} {_pct(low[0])}", hours]) + " |")
    lines.append(_summary_row(f"ensemble of {len(ens.members)}", ens.parameters, ens.evaluation, mode, recrop, ""))
    student = card.evaluation.get(Path(ens.data).stem)
    if student is not None:
        hours = f"{(card.training.seconds_to_epoch or 0) / 3600:.2f} h" if card.training else "?"
        name = f"student `{card.model_version}` (served)"
        lines.append(_summary_row(name, card.parameters, student, mode, recrop, hours))
    return [*lines, ""]


def _summary_row(name: str, params: int, e: Evaluation, mode: str | None, recrop: str | None, hours: str) -> str:
    cells = [name, f"{params:,}", _pct(e.plain.accuracy)]
    cells += [_pct(e.tta[mode].accuracy if mode in e.tta else None)] if mode else []
    cells += [_pct(e.recrop[recrop].plain.accuracy if recrop in e.recrop else None)] if recrop else []
    label, recall = e.plain.lowest_recall
    return "| " + " | ".join([*cells, f"{label} {_pct(recall)}", hours or "–"]) + " |"


def _weak_classes(card: ModelCard) -> list[str]:
    if not card.evaluation:
        return []
    name, entry = next(iter(card.evaluation.items()))
    plain = entry.plain
    weak = [f"{lab} {_pct(r)}" for lab, r in zip(plain.labels, plain.recall, strict=True) if r < 0.6]
    return [f"- Classes recalled below 60% on {name}: {', '.join(weak)}."] if weak else []


def _pct(value: Any, digits: int = 1) -> str:
    return f"{100 * float(value):.{digits}f}%" if value is not None else "?"
