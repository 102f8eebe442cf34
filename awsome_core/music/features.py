"""What the recommender reads from a track's audio features, and the plain words it explains them with.

**The track plane.** Every track gets a point ``(brightness, arousal)`` in [0, 1]²:

* ``brightness = 0.8·valence + 0.2·danceability`` (listeners hear danceable tracks as more positive than
  Spotify's valence alone says);
* ``arousal = 0.5·energy + 0.2·loud + 0.15·pace + 0.15·(1 - acousticness)``, with ``loud`` the loudness
  mapped from -35..-5 dB to 0..1 and ``pace`` the tempo mapped from 60..180 BPM to 0..1 -- so a quiet, slow,
  acoustic track is calm even where Spotify's ``energy`` alone would place it mid-way.

Missing features take neutral defaults (:data:`DEFAULTS`). On the mood-labelled files of
``../shared/data/music`` the four moods' centroids in this plane are about Calm (0.27, 0.26), Sad (0.39, 0.53),
Energetic (0.51, 0.70) and Happy (0.61, 0.75); ``scripts/bench_recommender.py`` measures the fit.

**Aggression** (0..1): high energy that is not bright (``energy`` above 0.75 with low valence), plus a genre
from :data:`AGGRESSIVE_GENRES`. **Restlessness** (0..1): what a calm list avoids -- electric, fast, wordy, sung.
**Not music** for a mood list: spoken word, comedy and sleep-noise genres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

DEFAULTS: Final = {
    "danceability": 0.5, "acousticness": 0.3, "loudness": -8.0, "tempo": 120.0, "speechiness": 0.05,
    "instrumentalness": 0.1,
}  # fmt: skip
AGGRESSIVE_GENRES: Final = frozenset(
    {"black-metal", "death-metal", "grindcore", "hardcore", "heavy-metal", "metal", "metalcore", "punk",
     "punk-rock", "grunge", "hard-rock", "industrial", "hardstyle"}
)  # fmt: skip
NOT_MUSIC_GENRES: Final = frozenset({"comedy", "sleep"})
SPOKEN: Final = 0.66  # Spotify: speechiness above this is probably spoken word


def arousal(energy: Array, loudness: Array, tempo: Array, acousticness: Array) -> Array:
    """The arousal axis of the track plane (see the module doc); arrays of equal shape."""
    loud = np.clip((loudness + 35.0) / 30.0, 0.0, 1.0)
    pace = np.clip((tempo - 60.0) / 120.0, 0.0, 1.0)
    return np.asarray(0.5 * energy + 0.2 * loud + 0.15 * pace + 0.15 * (1.0 - acousticness))


def brightness(valence: Array, danceability: Array) -> Array:
    return np.asarray(0.8 * valence + 0.2 * danceability)


def aggression(valence: Array, energy: Array, aggressive_genre: NDArray[np.bool_]) -> Array:
    loud_and_dark = np.clip((energy - 0.75) * 4.0, 0.0, 1.0) * (1.0 - valence)
    return np.asarray(np.clip(loud_and_dark + 0.5 * aggressive_genre, 0.0, 1.0))


def restlessness(acousticness: Array, tempo: Array, speechiness: Array, instrumentalness: Array) -> Array:
    pace = np.clip((tempo - 60.0) / 120.0, 0.0, 1.0)
    words = np.clip(speechiness * 3.0, 0.0, 1.0)
    return np.asarray(0.4 * (1.0 - acousticness) + 0.25 * pace + 0.15 * words + 0.2 * (1.0 - instrumentalness))


def genre_words(genre: str | None) -> str:
    return (genre or "").strip().lower().replace("-", " ")


@dataclass(frozen=True)
class TrackTraits:
    """A track's features in words; :meth:`phrase` gives e.g. ``"upbeat and bright, danceable salsa"``."""

    pace: str
    tone: str
    texture: str | None
    genre: str

    @classmethod
    def of(
        cls,
        *,
        valence: float,
        arousal: float,
        acousticness: float | None,
        instrumentalness: float | None,
        danceability: float | None,
        tempo: float | None,
        genre: str | None,
    ) -> TrackTraits:
        return cls(pace_word(arousal), tone_word(valence), _texture(acousticness, instrumentalness, danceability,
                                                                   tempo), genre_words(genre))  # fmt: skip

    def phrase(self) -> str:
        words = f"{self.pace} and {self.tone}"
        texture = self.texture if self.texture and self.texture[:5] not in self.genre else None  # not "dance dance"
        tail = " ".join(part for part in (texture, self.genre) if part)
        return f"{words}, {tail}" if tail else words


def pace_word(arousal_value: float) -> str:
    if arousal_value < 0.4:
        return "quiet"
    if arousal_value < 0.58:
        return "gentle"
    return "upbeat" if arousal_value < 0.8 else "high-energy"


def tone_word(valence: float) -> str:
    if valence < 0.25:
        return "dark"
    if valence < 0.45:
        return "wistful"
    return "warm" if valence < 0.65 else "bright"


def _texture(
    acousticness: float | None, instrumentalness: float | None, danceability: float | None, tempo: float | None
) -> str | None:
    if acousticness is not None and acousticness > 0.7:
        return "acoustic"
    if instrumentalness is not None and instrumentalness > 0.6:
        return "instrumental"
    if danceability is not None and danceability > 0.72:
        return "danceable"
    if tempo is not None and tempo > 150:
        return "fast"
    if tempo is not None and 0 < tempo < 80:
        return "slow"
    return None
