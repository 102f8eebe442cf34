"""The model card: ``models/emotion.json`` rendered as ``models/README.md``.

Every figure in the README comes from the card (written by ``awsome export``, completed by
``awsome evaluate --update-card``); the README is never typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from awsome_core.training.evaluate import tta_reports


def write_card(path: Path, card: dict[str, Any]) -> None:
    """Write the card JSON and re-render the README beside it."""
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    write_readme(path)


def write_readme(card_path: Path) -> Path:
    """Render ``README.md`` beside *card_path* (``emotion.json``) and return its path."""
    card = json.loads(Path(card_path).read_text(encoding="utf-8"))
    model = Path(card_path).with_name(card.get("file", "emotion.tflite"))
    size = f"{model.stat().st_size / 1e6:.2f} MB" if model.is_file() else "missing"
    readme = Path(card_path).with_name("README.md")
    readme.write_text(render_model_card(card, model_size=size), encoding="utf-8")
    return readme


def render_model_card(card: dict[str, Any], *, model_size: str = "?") -> str:
    """Markdown model card from the ``emotion.json`` dictionary (every figure comes from the card)."""
    t = card.get("training", {})
    lines = [
        "# AWSome emotion model: model card",
        "",
        "_Rendered from `emotion.json` by `awsome export` / `awsome evaluate --update-card`; do not edit by hand._",
        "",
        "| | |",
        "| --- | --- |",
        f"| model version | `{card.get('model_version')}` |",
        f"| file | `{card.get('file')}` ({model_size}, sha256 `{str(card.get('sha256', ''))[:16]}…`) |",
        f"| labels (output order) | {', '.join(card.get('labels', []))} |",
        f"| input | shape {card.get('input_shape')}, {card.get('input_dtype')}: {card.get('input')} |",
        f"| output | {card.get('output')} |",
        f"| runtime | {card.get('runtime')} |",
        f"| served with | {_serving(card)} |",
        f"| parameters | {card.get('parameters', 0):,} |",
        "",
        "## Data",
        "",
        *[f"- {k}: {v}" for k, v in card.get("data", {}).items()],
        "",
        *_render_training(t),
        *_render_evaluation(card.get("evaluation", {})),
        "## Export checks",
        "",
        *[f"- {k}: {v}" for k, v in card.get("export", {}).items()],
        "",
        "## Known weaknesses",
        "",
        *_weak_classes(card),
        *[f"- {w}" for w in card.get("known_weaknesses", [])],
        "",
        "## Face detector",
        "",
        "`face_detection_*.tflite` are Google MediaPipe's BlazeFace models (Apache-2.0, see `NOTICE-mediapipe.md`).",
        "",
    ]
    return "\n".join(lines)


def _serving(card: dict[str, Any]) -> str:
    from awsome_core.vision.classifier import serving_tta

    names = {"none": "no TTA", "flip": "mirror (flip) TTA", "shift": "10-view shift TTA (mirror, ±2 px)"}
    photo, live = (serving_tta(card, use) for use in ("photo", "live"))
    return names[photo] if photo == live else f"photos: {names[photo]}; live video: {names[live]}"


def _render_training(t: dict[str, Any]) -> list[str]:
    return [
        "## Training",
        "",
        f"- checkpoint `{t.get('run')}/{t.get('checkpoint')}`: epoch {t.get('epoch')}"
        f"{' (best on PublicTest)' if t.get('checkpoint') == 'best.keras' else ''} of {t.get('epochs_run')} run, "
        f"{t.get('epochs_planned')} planned",
        *_render_averaging(t),
        f"- training time to that epoch: {t.get('seconds_to_epoch', 0) / 3600:.1f} h "
        f"({t.get('images_per_second')} images/s median) on {t.get('hardware')}",
        f"- Keras accuracy at that epoch: PublicTest {_pct(t.get('val_acc_at_epoch'))}, "
        f"training (augmented) {_pct(t.get('train_acc_at_epoch'))}",
        "- config: " + ", ".join(f"`{k}={v}`" for k, v in t.get("config", {}).items() if k != "extra"),
        "",
    ]


def _render_averaging(t: dict[str, Any]) -> list[str]:
    count, config = t.get("averaged_models"), t.get("config", {})
    if not count:
        return []
    last = int(t.get("epoch") or 0)
    return [
        f"- stochastic weight averaging: the mean of the weights after each of epochs {last - count + 1}–{last} "
        f"({count} epochs at a constant learning rate {config.get('swa_lr')}), BatchNorm statistics recomputed on "
        f"{config.get('swa_bn_rows')} augmented training faces (`awsome_core/training/swa.py`)"
    ]


def _render_evaluation(evaluation: dict[str, Any]) -> list[str]:
    lines = ["## Evaluation", ""]
    if not evaluation:
        return [*lines, "_Not evaluated yet: run `awsome evaluate --data FILE.npz --tta --update-card`._", ""]
    for name, entry in evaluation.items():
        plain, tta = entry["plain"], entry.get("tta")
        lines += [f"### {name} ({entry['rows']} rows, {entry.get('evaluated', '')})", ""]
        lines += [f"Accuracy **{_pct(plain['accuracy'])}** without TTA"]
        lines[-1] += "".join(f", **{_pct(r['accuracy'])}** with {mode} TTA" for mode, r in tta_reports(entry).items())
        lines[-1] += "."
        lines += [
            "",
            f"| emotion | support | recall | precision | F1 | recall ({entry.get('tta_mode', 'flip')} TTA) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for i, label in enumerate(plain["labels"]):
            tta_recall = _pct(tta["recall"][i]) if tta else "–"
            lines.append(
                f"| {label} | {plain['support'][i]} | {_pct(plain['recall'][i])} | {_pct(plain['precision'][i])} "
                f"| {plain['f1'][i]:.3f} | {tta_recall} |"
            )
        lines += ["", "Confusion matrix (rows: true label, columns: predicted), without TTA:", ""]
        lines += ["| | " + " | ".join(plain["labels"]) + " |", "| --- |" + " --- |" * len(plain["labels"])]
        lines += [
            f"| {lab} | " + " | ".join(map(str, row)) + " |"
            for lab, row in zip(plain["labels"], plain["confusion"], strict=True)
        ]
        lines.append("")
    return lines


def _weak_classes(card: dict[str, Any]) -> list[str]:
    evaluation = card.get("evaluation", {})
    if not evaluation:
        return []
    name, entry = next(iter(evaluation.items()))
    plain = entry["plain"]
    weak = [f"{lab} {_pct(r)}" for lab, r in zip(plain["labels"], plain["recall"], strict=True) if r < 0.6]
    return [f"- Classes recalled below 60% on {name}: {', '.join(weak)}."] if weak else []


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if value is not None else "?"
