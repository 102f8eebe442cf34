"""A small audio-feature → mood classifier trained on the mood-labelled files of ``../shared/data/music``.

Used by ``scripts/bench_recommender.py`` to say how often the recommender's picks land in the moods a
strategy should give (Happy / Sad / Energetic / Calm). Trained here, at bench time, never shipped: the two
labelled files carry no licence, so neither their rows nor a model fitted on them goes into the package.

Model: multinomial logistic regression (numpy, full-batch gradient descent with L2) on standardised
features plus their squares; ``data_moods.csv`` (hand-curated) and ``song_mood_data.csv`` (playlist-name
labels, deduplicated by majority label) both train it. :func:`cross_validate` reports its accuracy on
held-out folds so the reader can judge how far to trust the shares it prints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

MOODS: Final = ("Calm", "Energetic", "Happy", "Sad")
FEATURES: Final = (
    "valence", "energy", "danceability", "acousticness", "instrumentalness", "loudness", "tempo", "speechiness",
    "liveness",
)  # fmt: skip


def load_labelled(music_dir: Path) -> pd.DataFrame:
    """Both labelled files as one frame (``track_id``, features, ``mood``), one row per track id."""
    moods = pd.read_csv(music_dir / "data_moods.csv").rename(columns={"id": "track_id"})
    weak = pd.read_csv(music_dir / "song_mood_data.csv")
    weak = weak.groupby("track_id", sort=False).agg(
        {**dict.fromkeys(FEATURES, "first"), "mood": lambda m: m.value_counts().index[0]}
    )
    frame = pd.concat([moods[["track_id", *FEATURES, "mood"]], weak.reset_index()[["track_id", *FEATURES, "mood"]]])
    return frame.drop_duplicates("track_id", keep="first").dropna(subset=list(FEATURES)).reset_index(drop=True)


@dataclass
class MoodJudge:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    @classmethod
    def fit(cls, frame: pd.DataFrame, *, steps: int = 1500, l2: float = 1e-3, lr: float = 0.5) -> MoodJudge:
        raw = _design(frame)
        mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-9
        x = np.hstack([(raw - mean) / scale, np.ones((len(raw), 1))])
        y = np.eye(len(MOODS))[frame["mood"].map(MOODS.index).to_numpy()]
        w = np.zeros((x.shape[1], len(MOODS)))
        for _ in range(steps):
            p = _softmax(x @ w)
            w -= lr * (x.T @ (p - y) / len(x) + l2 * w)
        return cls(mean, scale, w)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Mood names, one per row of *frame* (which needs the :data:`FEATURES` columns)."""
        raw = _design(frame)
        x = np.hstack([(raw - self.mean) / self.scale, np.ones((len(raw), 1))])
        return np.asarray(MOODS)[np.argmax(x @ self.weights, axis=1)]


def cross_validate(frame: pd.DataFrame, folds: int = 5, seed: int = 0) -> float:
    """Mean held-out accuracy over *folds* random folds."""
    order = np.random.default_rng(seed).permutation(len(frame))
    scores = []
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        judge = MoodJudge.fit(frame.iloc[train])
        scores.append(float(np.mean(judge.predict(frame.iloc[test]) == frame["mood"].to_numpy()[test])))
    return float(np.mean(scores))


def _design(frame: pd.DataFrame) -> np.ndarray:
    base = frame[list(FEATURES)].to_numpy(dtype=np.float64)
    return np.hstack([base, base**2])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))
