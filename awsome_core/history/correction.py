"""The one rule of every History figure and export: **the corrected emotion wins where there is one.**

A reading the user corrected ("No, I feel sad") counts as 100% its corrected emotion: its probabilities
become one-hot on that emotion and its valence and arousal that emotion's coordinates
(:data:`~awsome_core.emotions.VALENCE_AROUSAL`), exactly as the recommender treats it
(:mod:`awsome_core.services.recommendations`). A reading without a correction keeps the model's
probabilities and their probability-weighted valence and arousal. The database keeps both (the model's
probabilities and the correction), so undoing a correction restores the model's reading.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from sqlalchemy import case

from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.storage.models import MoodEvent

_VALENCE: Final = np.array([VALENCE_AROUSAL[e][0] for e in EMOTIONS])
_AROUSAL: Final = np.array([VALENCE_AROUSAL[e][1] for e in EMOTIONS])


def apply_corrections(
    probabilities: np.ndarray, valence: np.ndarray, arousal: np.ndarray, corrected: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(probabilities, valence, arousal)`` with the rule applied; *corrected* indexes EMOTIONS, -1 = none.

    Inputs are not modified; *probabilities* is ``(n, 7)`` in EMOTIONS order.
    """
    mask = corrected >= 0
    if not mask.any():
        return probabilities, valence, arousal
    probabilities, valence, arousal = probabilities.copy(), valence.copy(), arousal.copy()
    index = corrected[mask].astype(np.int64)
    probabilities[mask] = np.eye(len(EMOTIONS))[index]
    valence[mask], arousal[mask] = _VALENCE[index], _AROUSAL[index]
    return probabilities, valence, arousal


def corrected_point(emotion: str | None, valence: float, arousal: float) -> tuple[float, float]:
    """One reading's ``(valence, arousal)`` under the rule (*emotion*: its correction, None if none)."""
    return VALENCE_AROUSAL[emotion] if emotion else (valence, arousal)


def effective_valence() -> Any:
    """SQL for a reading's valence under the rule (a CASE on ``corrected_emotion``), for queries that
    aggregate in the database."""
    return case(*((MoodEvent.corrected_emotion == e, VALENCE_AROUSAL[e][0]) for e in EMOTIONS), else_=MoodEvent.valence)
