"""Export a training checkpoint to the serving model: ``models/emotion.tflite`` + ``models/emotion.json``.

Run commands::

    awsome export --checkpoint runs/vgg/best.keras --out models/
    awsome evaluate --data ../shared/data/fer2013/fer2013_val.npz --tta --update-card   # fills the figures
    awsome export --render-card models/emotion.json   # re-render models/README.md from the card only

Steps: load the ``.keras`` training model (augmentation + the nested ``awsome_fer`` backbone), rebuild the
backbone under a float32 policy (it was trained under ``mixed_bfloat16``) and copy its weights, convert with
``TFLiteConverter.from_keras_model`` and dynamic-range int8 quantization, then check the TFLite outputs
against Keras on real PublicTest faces (``from_concrete_functions`` once wrote a NaN model silently, see
MEASUREMENTS.md). The card (``emotion.json``) holds labels, input shape and range, the training config,
epochs, training time and hardware; ``awsome evaluate --update-card`` adds the evaluation figures, and
``models/README.md`` is always rendered from the card (``card_readme.render_model_card``), never typed by hand.
A student distilled from an ensemble (``awsome train --teacher ...``) exports the same way; its card names the
teacher and the distillation settings (from the run's config).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import ModelError
from awsome_core.training.card import DistillationInfo, ModelCard, TrainingInfo
from awsome_core.training.card_readme import write_card, write_readme
from awsome_core.vision.classifier import INPUT_SHAPE, EmotionClassifier

logger = logging.getLogger(__name__)

BACKBONE_NAME = "awsome_fer"  # the backbone's layer name (training/model.py)
VERIFY_ROWS = 500
MIN_AGREEMENT = 0.99
KNOWN_WEAKNESSES = (
    "FER2013 holds web images of mostly frontal adult faces, 48×48 grayscale: expect lower accuracy on profiles, "
    "strong head rotation, poor light, occlusion (glasses, masks, hands) and children. The data set records no "
    "demographics, so accuracy across groups was not measured.",
    "Labels are noisy: FER2013 labels and the FERPlus crowd majority agree on only about 63% of rows "
    "(fear 13%, disgust 30%, sad 41%), which caps every model's figures on these classes.",
    "disgust has 436 training and 56 PublicTest images: its figures are unreliable and it is rarely predicted.",
    "The model reads a facial expression, not a felt emotion: a posed smile is 'happy'.",
    "Accuracy depends on the crop: the app frames BlazeFace boxes the way FER2013 crops faces "
    "(awsome_core.vision.detector.SPECS, measured on FER2013 itself); tighter or looser crops lowered accuracy.",
)


def load_float32_backbone(checkpoint: Path) -> tuple[Any, Any]:
    """Return ``(float32 backbone, original backbone)`` from a ``.keras`` training checkpoint.

    The float32 copy is rebuilt from the backbone's config with every ``mixed_bfloat16`` policy replaced
    by ``float32``, then given the same weights (mixed-precision variables are float32 already).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if not Path(checkpoint).is_file():
        raise ModelError(f"No checkpoint at {checkpoint}")
    model = keras.saving.load_model(checkpoint, compile=False)
    try:
        original = model.get_layer(BACKBONE_NAME)
    except ValueError:
        original = model  # already an inference model
    config = _float32_config(original.get_config())
    keras.mixed_precision.set_global_policy("float32")
    clone = keras.Model.from_config(config)
    clone.set_weights(original.get_weights())
    return clone, original


def _float32_config(config: Any) -> Any:
    """Copy of a Keras config with each mixed-precision dtype policy replaced by float32."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and str(config.get("config", {}).get("name", "")).startswith(
            "mixed"
        ):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {k: _float32_config(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_float32_config(v) for v in config]
    return config


def convert(model: Any, *, quantize: bool = True) -> bytes:
    """TFLite flatbuffer of a Keras model; ``quantize`` applies dynamic-range int8 weights."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # Keras prints the saved signature
        flatbuffer = bytes(converter.convert())
    logger.debug("converter output: %s", printed.getvalue())
    return flatbuffer


def verification_faces(data: Path | None, rows: int = VERIFY_ROWS) -> tuple[np.ndarray, str]:
    """Real faces for the Keras-vs-TFLite check: the first *rows* of *data*, else random noise."""
    if data is not None and Path(data).is_file():
        with np.load(data) as d:
            return d["x"][:rows], f"{Path(data).name}[:{rows}]"
    logger.warning("no data file for verification; comparing on random pixels only")
    return np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8), "random pixels (64)"


def compare(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Max abs difference and argmax agreement of two N×7 probability arrays."""
    return {
        "max_abs_diff": round(float(np.abs(reference - other).max()), 6),
        "argmax_agreement": round(float((reference.argmax(1) == other.argmax(1)).mean()), 4),
    }


def run_info(checkpoint: Path) -> dict[str, Any]:
    """Training facts from the run directory beside the checkpoint (config.json, state.json, log.jsonl)."""
    run = Path(checkpoint).parent
    config = _read_json(run / "config.json")
    state = _read_json(run / "state.json")
    log = [json.loads(line) for line in _read_text(run / "log.jsonl").splitlines() if line.strip()]
    name = Path(checkpoint).name
    averaged = name.startswith("swa")  # swa.keras / swa_best.keras: the weight average (training/swa.py)
    best_key = "swa_best_epoch" if name == "swa_best.keras" else "best_epoch" if name == "best.keras" else "epoch"
    epoch = int(state.get(best_key) or (log[-1]["epoch"] if log else 0))
    upto = [r for r in log if r["epoch"] <= epoch]
    acc_key = "swa_val_acc" if averaged else "val_acc"
    return {
        "run": "/".join(run.resolve().parts[-2:]),  # e.g. runs/vgg, wherever the copy was read from
        "checkpoint": Path(checkpoint).name,
        "epoch": epoch,
        "epochs_run": int(state.get("epoch", len(log))),
        "epochs_planned": config.get("epochs"),
        "seconds_to_epoch": round(sum(r.get("epoch_seconds", 0.0) for r in upto), 1),
        "val_acc_at_epoch": next((r.get(acc_key) for r in upto if r["epoch"] == epoch), None),
        "averaged_models": next((r.get("swa_models") for r in upto if r["epoch"] == epoch), None) if averaged else None,
        "train_acc_at_epoch": next((r["train_acc"] for r in upto if r["epoch"] == epoch), None),
        "images_per_second": round(float(np.median([r["images_per_second"] for r in upto])), 1) if upto else None,
        "config": config,
    }


def hardware_description() -> str:
    """CPU model and core count of this machine (where training and export ran, unless told otherwise)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({model}), no GPU"


def distillation_of(config: dict[str, Any], run: Path) -> DistillationInfo | None:
    """The distillation settings of a run's config, or None if it learnt from labels alone. A soft-target file
    is read for its members and TTA, at its path or beside the run folder (where a GPU run's files come back)."""
    if not config.get("teacher") or not config.get("distill_alpha"):
        return None
    teacher, soft, tta = tuple(config["teacher"]), "", str(config.get("teacher_tta", "flip"))
    if len(teacher) == 1 and teacher[0].endswith(".npz"):
        soft = teacher[0]
        found = next((p for p in (Path(soft), run.parent / Path(soft).name) if p.is_file()), None)
        if found is not None:
            with np.load(found) as f:
                teacher = tuple(str(m) for m in f["members"])
                tta = str(f["tta"]) if "tta" in f.files else tta
    return DistillationInfo(
        teacher=teacher,
        temperature=float(config["distill_temperature"]),
        alpha=float(config["distill_alpha"]),
        ferplus_weight=float(config.get("ferplus_weight", 0.0)),
        teacher_tta=tta,
        soft_targets=soft,
    )


def build_card(
    *, tflite: bytes, info: dict[str, Any], checks: dict[str, Any], params: int, hardware: str, run: Path
) -> ModelCard:
    """The model card written to ``emotion.json`` (evaluation figures added later); *run* is the run folder."""
    sha = hashlib.sha256(tflite).hexdigest()
    preset = info["config"].get("preset", "fer")
    return ModelCard(
        model_version=f"fer-{preset}-e{info['epoch']}-{sha[:8]}",
        file="emotion.tflite",
        sha256=sha,
        labels=EMOTIONS,
        input_shape=INPUT_SHAPE,
        input_dtype="float32",
        input_range=(0, 255),
        input="grayscale face crop resized to 48×48, raw pixel values 0..255 (the model rescales them)",
        output="7 softmax probabilities in label order",
        runtime="TFLite flatbuffer, dynamic-range int8 weights; served with ai-edge-litert, 1 thread",
        # What the app serves (ui/mood.py reads it): each face averaged with its mirror image, photos and live
        # video alike. A mode per use is possible ({"photo": "shift", "live": "flip"}): choose by measurement
        # (`awsome evaluate --tta --tta-mode flip shift`).
        serving_tta="flip",
        parameters=int(params),
        data={
            "train": "FER2013 Training (28,709 rows; rows FERPlus marks not-a-face dropped), "
            "targets mixed with FERPlus vote distributions",
            "validation": "FER2013 PublicTest (3,589 rows), used to pick the checkpoint",
            "test": "FER2013 PrivateTest is held out outside this repository",
        },
        training=TrainingInfo.from_dict({**info, "hardware": hardware}),
        export={"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **checks},
        known_weaknesses=KNOWN_WEAKNESSES,
        distillation=distillation_of(info["config"], run),
    )


def export(checkpoint: Path, out_dir: Path, *, data: Path | None, hardware: str, quantize: bool = True) -> ModelCard:
    """Convert, verify and write ``emotion.tflite`` + ``emotion.json`` + ``README.md`` into *out_dir*."""
    from awsome_core.training.model import predict_probabilities

    backbone, original = load_float32_backbone(checkpoint)
    tflite = convert(backbone, quantize=quantize)
    faces, source = verification_faces(data)
    keras_probs = predict_probabilities(backbone, faces)
    lite = EmotionClassifier(model_content=tflite, card={"labels": list(EMOTIONS), "input_shape": list(INPUT_SHAPE)})
    lite_probs = lite.predict(faces).astype(np.float64)
    agreement = compare(keras_probs, lite_probs)
    checks: dict[str, Any] = {
        "verified_on": source,
        "quantization": "dynamic-range int8" if quantize else "none (float32)",
        "tflite_vs_keras_float32": agreement,
        "keras_float32_vs_bfloat16": compare(predict_probabilities(original, faces), keras_probs),
    }
    logger.info("export checks: %s", json.dumps(checks))
    if not np.isfinite(lite_probs).all() or agreement["argmax_agreement"] < MIN_AGREEMENT:
        raise ModelError(f"The TFLite model disagrees with Keras: {agreement}; nothing written.")
    card = build_card(
        tflite=tflite,
        info=run_info(checkpoint),
        checks=checks,
        params=backbone.count_params(),
        hardware=hardware,
        run=Path(checkpoint).parent,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "emotion.tflite").write_bytes(tflite)
    write_card(out_dir / "emotion.json", card)
    return card


def _read_json(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    return json.loads(text) if text else {}


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="awsome export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", type=Path, default=Path("runs/wide/best.keras"))
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument(
        "--data", type=Path, default=None, help="npz for the Keras-vs-TFLite check (default: the run's PublicTest)"
    )
    parser.add_argument("--hardware", default=None, help="describe the training machine (default: this one)")
    parser.add_argument("--no-quantize", action="store_true", help="write a float32 model (4× larger, slower)")
    parser.add_argument(
        "--render-card", type=Path, default=None, help="only re-render README.md from this emotion.json"
    )
    args = parser.parse_args(argv)
    if args.render_card:
        write_readme(args.render_card)
        return 0
    data = args.data
    if data is None:
        data_dir = _read_json(args.checkpoint.parent / "config.json").get("data_dir", "../shared/data/fer2013")
        data = Path(data_dir) / "fer2013_val.npz"
    card = export(
        args.checkpoint,
        args.out,
        data=data,
        hardware=args.hardware or hardware_description(),
        quantize=not args.no_quantize,
    )
    logger.info("wrote %s (%s)", args.out / "emotion.tflite", card.model_version)
    return 0
