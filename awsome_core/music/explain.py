"""One line of plain words per recommended track: what it sounds like, why it is in this list, what you liked.

Examples: ``"Upbeat and bright, danceable salsa: matches your happy mood"``, ``"Gentle and warm, acoustic folk:
step 5 of 10 up from sad, warmer but still gentle"``, ``"High-energy and warm rock: to get you moving; because
you liked Queen"``. Words come from :class:`~awsome_core.music.features.TrackTraits`; no bare numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from awsome_core.music.features import TrackTraits, genre_words, pace_word, tone_word
from awsome_core.music.index import artist_keys
from awsome_core.storage.models import Track


@dataclass(frozen=True)
class Context:
    """What the explanation of every pick in one list shares."""

    emotion: str
    strategy: str
    n: int
    lifting: bool
    liked_artists: Mapping[str, str] = field(default_factory=dict)  # normalised name → name as written
    liked_genres: frozenset[str] = frozenset()


def explain_pick(track: Track, slot: int, context: Context, *, estimated: bool, arousal: float) -> str:
    """The explanation of *track* at list position *slot* (0-based); *arousal* is its track-plane arousal."""
    valence = float(track.valence if track.valence is not None else 0.5)
    traits = TrackTraits.of(
        valence=valence,
        arousal=arousal,
        acousticness=track.acousticness,
        instrumentalness=track.instrumentalness,
        danceability=track.danceability,
        tempo=track.tempo,
        genre=track.genre,
    )
    sound = traits.phrase()
    reasons = [_why(slot, context, valence, arousal)]
    liked = next((context.liked_artists[a] for a in artist_keys(track.artists) if a in context.liked_artists), None)
    genre = (track.genre or "").strip().lower()
    if liked:
        reasons.append(f"because you liked {liked}")
    elif genre and genre in context.liked_genres:
        reasons.append(f"more of the {genre_words(genre)} you liked")
    if estimated:
        reasons.append("its sound is estimated from its mood tag")
    line = f"{sound}: {'; '.join(reasons)}"
    return line[0].upper() + line[1:]


def _why(slot: int, context: Context, valence: float, arousal: float) -> str:
    emotion = context.emotion
    if context.strategy == "calm":
        return "to slow things down"
    if context.strategy == "energize":
        return "to get you moving"
    if not context.lifting:
        return f"matches your {emotion} mood"
    if slot == 0:
        return f"starts where you are: {emotion}"
    if slot == context.n - 1:
        return f"the end of the lift from {emotion}: {tone_word(valence)} and {pace_word(arousal)}"
    return f"step {slot + 1} of {context.n} up from {emotion}: {_step_words(valence, arousal)}"


def _step_words(valence: float, arousal: float) -> str:
    warmer = "brighter" if valence >= 0.65 else "warmer" if valence >= 0.35 else "a little lighter"
    if arousal < 0.58:
        return f"{warmer}, still {pace_word(arousal)}"
    return f"{warmer} and livelier"
