"""Emotion classification of 48×48 grayscale faces with the exported TFLite model.

Conventions:

* Input faces: ``uint8`` array N×48×48 (or one 48×48 face), grayscale, pixel values 0..255, cropped as
  :func:`awsome_core.vision.analyze.crop_face` does. The model rescales pixels itself.
* Output: ``float32`` N×7 probabilities in :data:`awsome_core.emotions.EMOTIONS` order
  (angry, disgust, fear, happy, sad, surprise, neutral); each row sums to 1.

The model runs on ai-edge-litert's interpreter (no TensorFlow import, a fraction of its memory: see
``scripts/bench_vision.py``) with one thread, so several sessions share the CPU fairly. Beside
``emotion.tflite`` lies ``emotion.json`` (the model card); :meth:`EmotionClassifier.load` refuses a model
whose labels or input shape differ from this code's.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import ModelError
from awsome_core.training.card import ModelCard, as_card, load_card

logger = logging.getLogger(__name__)

INPUT_SHAPE = (48, 48, 1)
# Test-time augmentation: "flip" averages each face with its mirror image (2 passes); "shift" also with
# both shifted 2 px up, down, left and right (10 passes). The card says which the app serves where.
TTA_MODES = ("none", "flip", "shift")
TtaChoice = bool | str  # True = "flip", False = "none"


def tta_mode(choice: TtaChoice) -> str:
    """A TTA mode name from a mode or a bool; raises ``ValueError`` for an unknown one."""
    mode = ("flip" if choice else "none") if isinstance(choice, bool) else choice
    if mode not in TTA_MODES:
        raise ValueError(f"unknown TTA mode {choice!r}; choose one of {TTA_MODES}")
    return mode


def tta_views(faces: np.ndarray, mode: TtaChoice) -> list[np.ndarray]:
    """The views of N×48×48 faces that *mode* averages over (the faces themselves first)."""
    mode = tta_mode(mode)
    views = [faces] if mode == "none" else [faces, faces[:, :, ::-1]]
    if mode == "shift":
        padded = [np.pad(v, ((0, 0), (2, 2), (2, 2)), mode="reflect") for v in views]
        offsets = [(0, 2), (4, 2), (2, 0), (2, 4)]  # (dy, dx) into the padded face: up, down, left, right
        views += [p[:, dy : dy + 48, dx : dx + 48] for p in padded for dy, dx in offsets]
    return [np.ascontiguousarray(v) for v in views]


def card_path_for(model_path: Path) -> Path:
    """The model card beside a model: ``emotion.tflite`` → ``emotion.json``."""
    return Path(model_path).with_suffix(".json")


def _interpreter(model_path: str | None, model_content: bytes | None, num_threads: int) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - fallback where only TensorFlow is installed
        logger.warning("ai-edge-litert is not installed; falling back to tf.lite (imports TensorFlow)")
        from tensorflow.lite import Interpreter
    return Interpreter(model_path=model_path, model_content=model_content, num_threads=num_threads)


def check_card(card: ModelCard | Mapping[str, Any], *, source: str) -> None:
    """Raise :class:`ModelError` unless the card's labels and input shape match this code."""
    card = as_card(card)
    labels = card.labels
    if labels != EMOTIONS:
        raise ModelError(
            f"The emotion model {source} was trained with labels {list(labels)}, "
            f"but this app expects {list(EMOTIONS)}: export the model again with this version of AWSome."
        )
    shape = card.input_shape
    if shape != INPUT_SHAPE:
        raise ModelError(f"The emotion model {source} expects input {list(shape)}, this app feeds {list(INPUT_SHAPE)}.")


class EmotionClassifier:
    """A loaded emotion model. :meth:`predict` is thread-safe: one internal lock serializes the interpreter,
    so one instance can serve the webrtc callback thread and the script thread at once."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        model_content: bytes | None = None,
        card: ModelCard | Mapping[str, Any],
        tta: TtaChoice = "none",
    ) -> None:
        source = str(model_path) if model_path else "(in memory)"
        self._card = as_card(card)
        check_card(self._card, source=source)
        self.tta = tta_mode(tta)
        self._it = _interpreter(str(model_path) if model_path else None, model_content, num_threads=1)
        self._it.allocate_tensors()
        inp, out = self._it.get_input_details()[0], self._it.get_output_details()[0]
        if tuple(int(v) for v in inp["shape"][1:]) != INPUT_SHAPE or int(out["shape"][-1]) != len(EMOTIONS):
            raise ModelError(f"The emotion model {source} has input {inp['shape']} and output {out['shape']}.")
        self._in, self._out = inp["index"], out["index"]
        # the batch size the interpreter is allocated for: a list, so that with_tta's twins, which share the
        # interpreter, share it too (a twin with its own count set 1 face into a 2-view batch: ValueError)
        self._batch = [1]
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str, *, tta: TtaChoice | None = False) -> EmotionClassifier:
        """Load ``path`` (a ``.tflite``) and check it against its card ``path.with_suffix('.json')``.

        ``tta=None`` serves the model the way its card says for photos (:func:`serving_tta`); live video
        takes ``classifier.with_tta(serving_tta(card, "live"))`` (``ui/mood.live_classifier``).
        """
        path = Path(path)
        card_path = card_path_for(path)
        if not path.is_file():
            raise ModelError(f"The emotion model is missing: {path} (run `awsome export`, see models/README.md).")
        card = load_card(card_path)  # ModelError if missing or unreadable
        classifier = cls(model_path=path, card=card, tta=serving_tta(card, "photo") if tta is None else tta)
        logger.info("loaded emotion model %s (%s)", path, classifier.model_version)
        return classifier

    def with_tta(self, tta: TtaChoice) -> EmotionClassifier:
        """This model serving another default TTA mode; shares the interpreter and its lock (no reload)."""
        twin = copy.copy(self)
        twin.tta = tta_mode(tta)
        return twin

    @property
    def model_version(self) -> str:
        """The card's ``model_version`` (stored with every mood event)."""
        return self._card.model_version

    @property
    def model_card(self) -> ModelCard:
        """The model card (``emotion.json``), a frozen value."""
        return self._card

    @property
    def card(self) -> dict[str, Any]:
        """The model card as its JSON dictionary (a fresh copy; :attr:`model_card` is the typed value)."""
        return self._card.to_dict()

    def predict(self, faces: np.ndarray, *, tta: TtaChoice | None = None) -> np.ndarray:
        """Probabilities (N×7 float32, EMOTIONS order) for N×48×48 uint8 grayscale faces.

        :param tta: test-time augmentation mode (:data:`TTA_MODES`; ``True`` = ``"flip"``, twice the work,
            ``"shift"`` ten times); defaults to the instance's ``tta``. All views run as one batch.
        """
        x = np.asarray(faces)
        if x.ndim == 2:
            x = x[None]
        if x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim != 3 or x.shape[1:] != INPUT_SHAPE[:2]:
            raise ValueError(f"expected N×48×48 faces, got shape {np.asarray(faces).shape}")
        if len(x) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        views = tta_views(x, self.tta if tta is None else tta)
        probs = self._run(np.concatenate(views).astype(np.float32)[..., None])
        mean: np.ndarray = probs.reshape(len(views), len(x), len(EMOTIONS)).mean(axis=0, dtype=np.float32)
        return mean

    def _run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if len(x) != self._batch[0]:
                self._it.resize_tensor_input(self._in, [len(x), *INPUT_SHAPE], strict=False)
                self._it.allocate_tensors()
                self._batch[0] = len(x)
            self._it.set_tensor(self._in, np.ascontiguousarray(x))
            self._it.invoke()
            out: np.ndarray = self._it.get_tensor(self._out).astype(np.float32, copy=True)
            return out


def serving_tta(card: ModelCard | Mapping[str, Any], use: str = "photo") -> str:
    """The TTA mode a model card says the app serves for *use* (``"photo"`` or ``"live"``).

    ``serving_tta`` is one mode for both (``"flip"``) or one per use (``{"photo": "shift", "live": "flip"}``);
    ``"none"`` when the card does not say or names an unknown mode.
    """
    mode = as_card(card).serving_mode(use)
    return mode if mode in TTA_MODES else "none"


@lru_cache(maxsize=2)
def get_classifier(path: str, tta: TtaChoice | None = False) -> EmotionClassifier:
    """The process-wide classifier for *path*, loaded on first use (safe to share across threads)."""
    return EmotionClassifier.load(path, tta=tta)
