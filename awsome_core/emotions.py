"""The single source of truth for emotion labels and their place in valence/arousal space.

Label order is FER2013's: ``angry, disgust, fear, happy, sad, surprise, neutral`` (index 0..6).
The model card and the model loader are checked against :data:`EMOTIONS`.

Valence/arousal coordinates follow Russell's circumplex model of affect, scaled to [0, 1]
(0.5 is neutral on both axes), using the positions of Russell (1980) and Scherer (2005):
``happy`` is pleasant and fairly aroused, ``sad`` unpleasant and low, ``angry``/``fear``
unpleasant and high, ``surprise`` high arousal with slightly positive valence.
A reading's mood is the probability-weighted mean of these coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

EMOTIONS: Final = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: (valence, arousal) in [0, 1] for each emotion.
VALENCE_AROUSAL: Final[dict[str, tuple[float, float]]] = {
    "angry": (0.15, 0.85),
    "disgust": (0.20, 0.60),
    "fear": (0.15, 0.80),
    "happy": (0.90, 0.70),
    "sad": (0.15, 0.25),
    "surprise": (0.65, 0.90),
    "neutral": (0.50, 0.40),
}

#: One colour per emotion, used the same way in every chart of the app.
EMOTION_COLORS: Final[dict[str, str]] = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#f2b701",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}


def to_probability_dict(values: Sequence[float]) -> dict[str, float]:
    """Map 7 probabilities in FER2013 order to ``{emotion: probability}``."""
    if len(values) != len(EMOTIONS):
        raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {len(values)}")
    return {name: float(v) for name, v in zip(EMOTIONS, values, strict=True)}


def mood_point(probabilities: Mapping[str, float]) -> tuple[float, float]:
    """Return the probability-weighted (valence, arousal) of a reading, each in [0, 1]."""
    total = sum(max(0.0, probabilities.get(e, 0.0)) for e in EMOTIONS)
    if total <= 0:
        return VALENCE_AROUSAL["neutral"]
    valence = sum(max(0.0, probabilities.get(e, 0.0)) * VALENCE_AROUSAL[e][0] for e in EMOTIONS)
    arousal = sum(max(0.0, probabilities.get(e, 0.0)) * VALENCE_AROUSAL[e][1] for e in EMOTIONS)
    return valence / total, arousal / total


def top_emotion(probabilities: Mapping[str, float]) -> str:
    """Return the most probable emotion (ties go to the earlier label in :data:`EMOTIONS`)."""
    return max(EMOTIONS, key=lambda e: probabilities.get(e, 0.0))


def one_hot(emotion: str) -> dict[str, float]:
    """All weight on *emotion* (in :data:`EMOTIONS` order): what the music follows for a user's correction."""
    return {e: float(e == emotion) for e in EMOTIONS}
