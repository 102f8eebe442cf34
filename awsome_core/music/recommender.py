"""Mood → target points in (valence, energy) → a ranked, diverse, personal list of tracks.

**Mood point.** The 7 emotion probabilities give ``(v, a) = Σ p_e · (valence_e, arousal_e) / Σ p_e``
with the circumplex coordinates of :data:`awsome_core.emotions.VALENCE_AROUSAL` (all in [0, 1]);
arousal is compared with Spotify's ``energy``.

**Targets.** One target point per list position ``i = 0..n-1``:

* ``match``: every target is ``(v, a)``.
* ``lift`` (the iso principle: meet the listener where they are, then move step by step): target ``i``
  lies on the segment from ``(v, a)`` to :data:`LIFT_GOAL`, ``min(1, i·LIFT_STEP / |goal - start|)`` of
  the way along, so each track moves at most ``LIFT_STEP`` and a 10-track list from "sad" reaches the
  goal at the end. When ``v`` is already at or above the goal's valence, lift equals match.
  Default strategy when the top emotion is sad, angry, fear or disgust; otherwise ``match``.
* ``calm``: ``(clip(v, 0.35, 0.70), CALM_ENERGY)``: keep roughly the listener's valence, low energy.
* ``energize``: ``(clip(v, 0.55, 0.90), ENERGIZE_ENERGY)``: positive and high energy.

**Ranking.** For each position in order, the eligible track minimising
``score = |(valence, energy) - target| + jitter - ARTIST_BOOST·[liked artist] - GENRE_BOOST·[liked genre]``
is taken; ``jitter ~ U(0, JITTER)`` comes from ``numpy.random.default_rng(seed)``, so a seed gives the
same list and another seed a slightly different one. Eligible: not already picked, sharing no artist
with a picked track, not disliked by the user, and not recommended to them in the last
:data:`RECENT_WINDOW` (if that leaves too few, recently played tracks are allowed again; disliked
never are). Each pick is explained in one line, e.g. ``"calm, warm: valence 0.62, energy 0.31"``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from awsome_core.emotions import mood_point, to_probability_dict, top_emotion
from awsome_core.music.index import CatalogIndex, artist_keys, clear_catalog_index_cache, load_catalog_index
from awsome_core.music.starter import ensure_starter_catalog
from awsome_core.storage.models import Feedback, Track
from awsome_core.storage.models import Recommendation as RecommendationRow

logger = logging.getLogger(__name__)

STRATEGIES: Final = ("match", "lift", "calm", "energize")
LIFT_BY_DEFAULT: Final = frozenset({"sad", "angry", "fear", "disgust"})
LIFT_GOAL: Final = (0.80, 0.60)
LIFT_STEP: Final = 0.08
CALM_ENERGY: Final = 0.20
ENERGIZE_ENERGY: Final = 0.85
ARTIST_BOOST: Final = 0.05
GENRE_BOOST: Final = 0.02
JITTER: Final = 0.02
RECENT_WINDOW: Final = timedelta(days=1)
_CANDIDATES: Final = 256  # nearest tracks examined per position before a full sort

Point = tuple[float, float]


@dataclass(frozen=True)
class RecommendedTrack:
    """One pick: ``track`` is the ORM row (loaded in the caller's session); ``target`` is (valence, energy)."""

    rank: int
    track: Track
    strategy: str
    target: Point
    distance: float
    explanation: str


@dataclass
class _Preferences:
    disliked: set[int] = field(default_factory=set)
    recent: set[int] = field(default_factory=set)
    liked_artists: set[str] = field(default_factory=set)
    liked_genres: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Masks:
    """Per-call boolean arrays over the index."""

    liked_artist: np.ndarray
    liked_genre: np.ndarray
    disliked: np.ndarray
    recent: np.ndarray

    @classmethod
    def build(cls, index: CatalogIndex, prefs: _Preferences) -> _Masks:
        return cls(
            liked_artist=index.mask_artists(prefs.liked_artists),
            liked_genre=index.mask_genres(prefs.liked_genres),
            disliked=index.mask_ids(prefs.disliked),
            recent=index.mask_ids(prefs.recent),
        )


def default_strategy(probabilities: Mapping[str, float]) -> str:
    """``lift`` when the top emotion is sad, angry, fear or disgust, else (or with no reading) ``match``."""
    if max(probabilities.values(), default=0.0) <= 0.0:
        return "match"
    return "lift" if top_emotion(probabilities) in LIFT_BY_DEFAULT else "match"


def plan_targets(point: Point, strategy: str, n: int) -> list[Point]:
    """The *n* target (valence, energy) points of *strategy* from the mood *point* (see module doc)."""
    v, a = point
    if strategy == "match":
        return [(v, a)] * n
    if strategy == "calm":
        return [(min(max(v, 0.35), 0.70), CALM_ENERGY)] * n
    if strategy == "energize":
        return [(min(max(v, 0.55), 0.90), ENERGIZE_ENERGY)] * n
    if strategy != "lift":
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    gv, ga = LIFT_GOAL
    length = float(np.hypot(gv - v, ga - a))
    if v >= gv or length == 0.0:
        return [(v, a)] * n
    fractions = [min(1.0, i * LIFT_STEP / length) for i in range(n)]
    return [(v + f * (gv - v), a + f * (ga - a)) for f in fractions]


def describe_track(valence: float, energy: float) -> str:
    """Two words for a point, energy then valence: ``"calm, warm"``."""
    pace = "calm" if energy < 0.4 else "steady" if energy < 0.7 else "energetic"
    tone = "melancholic" if valence < 0.3 else "bittersweet" if valence < 0.5 else "warm" if valence < 0.7 else "bright"
    return f"{pace}, {tone}"


def recommend_tracks(
    *,
    session: Session,
    user_id: int | None,
    probabilities: Mapping[str, float] | Sequence[float],
    strategy: str | None = None,
    n: int = 10,
    seed: int = 0,
    now: datetime | None = None,
) -> list[RecommendedTrack]:
    """Recommend up to *n* tracks for the mood given by 7 emotion *probabilities*.

    :param probabilities: ``{emotion: p}`` or 7 values in FER2013 order (see :mod:`awsome_core.emotions`).
    :param strategy: one of :data:`STRATEGIES`; None picks :func:`default_strategy`.
    :param now: timezone-aware "now" for the recently-played window (default: current UTC time).
    :return: picks in list order, fewer than *n* only for a tiny catalog. An empty catalog gets the
        starter songs (committed). Nothing else is stored: the caller records what it shows.
    """
    probs = to_probability_dict(probabilities) if not isinstance(probabilities, Mapping) else probabilities
    strategy = strategy or default_strategy(probs)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if not 1 <= n <= 100:
        raise ValueError(f"n must be between 1 and 100, not {n}")
    targets = plan_targets(mood_point(probs), strategy, n)
    index = _rankable_index(session)
    masks = _Masks.build(index, _load_preferences(session, user_id, now or datetime.now(UTC)))
    picks = _rank(index, targets, masks, seed)
    tracks = _load_tracks(session, [int(index.ids[p]) for p, _ in picks])
    if len(tracks) < len(picks):  # tracks deleted since the index was built
        clear_catalog_index_cache()
    results: list[RecommendedTrack] = []
    lifting = strategy == "lift" and targets[0] != targets[-1]
    for position, slot in picks:
        track = tracks.get(int(index.ids[position]))
        if track is not None:
            why = _explain(index, position, slot, n, lifting, masks)
            target, distance = targets[slot], _distance(index, position, targets[slot])
            results.append(RecommendedTrack(len(results) + 1, track, strategy, target, distance, why))
    return results


def _rankable_index(session: Session) -> CatalogIndex:
    index = load_catalog_index(session=session)
    if len(index) == 0 and ensure_starter_catalog(session=session):
        index = load_catalog_index(session=session)
    return index


def _load_preferences(session: Session, user_id: int | None, now: datetime) -> _Preferences:
    prefs = _Preferences()
    if user_id is None:
        return prefs
    feedback = session.execute(
        select(Feedback.track_id, Feedback.value, Track.artists, Track.genre)
        .join(Track, Track.id == Feedback.track_id)
        .where(Feedback.user_id == user_id)
    )
    for track_id, value, artists, genre in feedback:
        if value < 0:
            prefs.disliked.add(int(track_id))
        elif value > 0:
            prefs.liked_artists.update(artist_keys(artists))
            if genre and genre.strip():
                prefs.liked_genres.add(genre.strip().lower())
    recent = select(RecommendationRow.track_id).where(
        RecommendationRow.user_id == user_id, RecommendationRow.created_at >= now - RECENT_WINDOW
    )
    prefs.recent = {int(t) for t in session.execute(recent).scalars()}
    return prefs


def _rank(index: CatalogIndex, targets: list[Point], masks: _Masks, seed: int) -> list[tuple[int, int]]:
    """Return ``(position in index, target slot)`` pairs in list order (see the module doc)."""
    if len(index) == 0:
        return []
    rng = np.random.default_rng(seed)
    offset = rng.uniform(0.0, JITTER, len(index))
    offset -= ARTIST_BOOST * masks.liked_artist + GENRE_BOOST * masks.liked_genre
    ranker = _Ranker(index, offset)
    slots: list[int | None] = [None] * len(targets)
    for blocked in (masks.disliked | masks.recent, masks.disliked):
        ranker.block(blocked)
        for slot, target in enumerate(targets):
            if slots[slot] is None:
                slots[slot] = ranker.pick(target)
    return [(pick, slot) for slot, pick in enumerate(slots) if pick is not None]


class _Ranker:
    """Greedy nearest picks with no repeated track or artist.

    The ``_CANDIDATES`` best positions are sorted once per distinct target (a "match" list scores the
    catalog once, a "lift" list once per step); a full sort is the fallback when they run out.
    """

    def __init__(self, index: CatalogIndex, offset: np.ndarray) -> None:
        self.index, self.base_offset, self.offset = index, offset, offset
        self.taken = np.zeros(len(index), dtype=bool)
        self.used_artists: set[int] = set()
        self._orders: dict[Point, tuple[np.ndarray, np.ndarray]] = {}

    def block(self, mask: np.ndarray) -> None:
        self.offset = self.base_offset.copy()
        self.offset[mask] = np.inf
        self._orders.clear()

    def pick(self, target: Point) -> int | None:
        if target not in self._orders:
            score = self._score(target)
            k = min(_CANDIDATES, len(self.index))
            top = np.argpartition(score, k - 1)[:k]
            top = top[np.argsort(score[top], kind="stable")]
            self._orders[target] = (top, score[top])
        position = self._first_allowed(*self._orders[target])
        if position is None and len(self._orders[target][0]) < len(self.index):
            score = self._score(target)  # all near tracks are taken or share an artist: look further
            order = np.argsort(score, kind="stable")
            position = self._first_allowed(order, score[order])
        if position is not None:
            self.taken[position] = True
            self.used_artists.update(int(code) for code in self.index.artists_of(position))
        return position

    def _score(self, target: Point) -> np.ndarray:
        """Euclidean distance to *target* plus the offset, computed in place (no hypot: 3x faster)."""
        score = self.index.valence - target[0]
        score *= score
        d_energy = self.index.energy - target[1]
        d_energy *= d_energy
        score += d_energy
        np.sqrt(score, out=score)
        score += self.offset
        return score

    def _first_allowed(self, order: np.ndarray, scores: np.ndarray) -> int | None:
        for position, score in zip(order.tolist(), scores.tolist(), strict=True):
            if score == np.inf:
                return None
            if not self.taken[position] and self.used_artists.isdisjoint(self.index.artists_of(position).tolist()):
                return int(position)
        return None


def _distance(index: CatalogIndex, position: int, target: Point) -> float:
    return float(np.hypot(index.valence[position] - target[0], index.energy[position] - target[1]))


def _load_tracks(session: Session, track_ids: list[int]) -> dict[int, Track]:
    if not track_ids:
        return {}
    return {t.id: t for t in session.scalars(select(Track).where(Track.id.in_(track_ids)))}


def _explain(index: CatalogIndex, position: int, slot: int, n: int, lifting: bool, masks: _Masks) -> str:
    valence, energy = float(index.valence[position]), float(index.energy[position])
    line = f"{describe_track(valence, energy)}: valence {valence:.2f}, energy {energy:.2f}"
    reasons = []
    if lifting:
        reasons.append(f"step {slot + 1} of {n} toward a brighter mood")
    if masks.liked_artist[position]:
        reasons.append("an artist you liked")
    elif masks.liked_genre[position]:
        reasons.append("a genre you liked")
    if index.estimated[position]:
        reasons.append("features estimated from its mood tag")
    return f"{line} ({'; '.join(reasons)})" if reasons else line
