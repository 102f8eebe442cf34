"""Mood → target points in the track plane → a ranked, diverse, personal list of tracks.

**Mood point.** The 7 emotion probabilities give ``(v, a) = Σ p_e · (valence_e, arousal_e) / Σ p_e``
(:data:`awsome_core.emotions.VALENCE_AROUSAL`), mapped into the track plane of
:mod:`awsome_core.music.features` (brightness, arousal) by :func:`track_point`.

**Targets** (one per list position ``i = 0..n-1``, in the track plane):

* ``match``: every target is the mood point.
* ``lift`` (the iso principle: meet the listener where they are, then move step by step): target ``i`` lies on
  the segment from the mood point to :data:`LIFT_GOAL`, ``min(1, i·LIFT_STEP / |goal - start|)`` of the way,
  so a 10-track list from "sad" arrives near the goal. Already at or above the goal's brightness: as match.
  Default strategy when the top emotion is sad, angry, fear or disgust; otherwise ``match``.
* ``calm``: brightness kept between 0.25 and 0.5, arousal :data:`CALM_AROUSAL`; restless tracks cost more.
* ``energize``: brighter than the mood (0.6..0.85), arousal 0.85..0.95 (higher from an aroused mood);
  danceable tracks are preferred.

**Ranking.** For each position in order, the eligible track minimising
``|point - target| + w(target)·aggression + strategy terms + jitter - boosts`` is taken, where
``w = AGGRESSION_WEIGHT·clip((brightness_target - 0.4) / 0.4, -1, 1)``: bright targets push aggressive tracks
away, dark and aroused ones (angry) welcome them. Boosts: :data:`ARTIST_BOOST` for an artist the user liked,
:data:`GENRE_BOOST` for a liked genre, :data:`POPULARITY_BOOST`·popularity; disliked artists cost
:data:`DISLIKED_ARTIST_COST`; spoken word, comedy and sleep noise cost :data:`NOT_MUSIC_COST`.
``jitter ~ U(0, JITTER)`` from ``numpy.random.default_rng(seed)``: a seed gives the same list. Eligible: not
already picked, no artist shared with a pick, not disliked, not recommended to the user in the last
:data:`RECENT_WINDOW` (if that leaves too few, recent tracks come back; disliked never do). Each pick is
explained in plain words (:mod:`awsome_core.music.explain`).
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
from awsome_core.music.explain import Context, explain_pick
from awsome_core.music.index import CatalogIndex, artist_keys, clear_catalog_index_cache, load_catalog_index
from awsome_core.music.starter import ensure_starter_catalog
from awsome_core.storage.models import Feedback, Track
from awsome_core.storage.models import Recommendation as RecommendationRow

logger = logging.getLogger(__name__)

STRATEGIES: Final = ("match", "lift", "calm", "energize")
LIFT_BY_DEFAULT: Final = frozenset({"sad", "angry", "fear", "disgust"})
LIFT_GOAL: Final = (0.75, 0.72)
LIFT_STEP: Final = 0.1
CALM_AROUSAL: Final = 0.22
ENERGIZE_AROUSAL: Final = (0.85, 0.95)
AGGRESSION_WEIGHT: Final = 0.2
CALM_RESTLESS_WEIGHT: Final = 0.35
ENERGIZE_DANCE_WEIGHT: Final = 0.12
ARTIST_BOOST: Final = 0.12
GENRE_BOOST: Final = 0.02
POPULARITY_BOOST: Final = 0.03
DISLIKED_ARTIST_COST: Final = 0.05
NOT_MUSIC_COST: Final = 0.5
JITTER: Final = 0.02
RECENT_WINDOW: Final = timedelta(days=1)
_CANDIDATES: Final = 256  # nearest tracks examined per position before a full sort

Point = tuple[float, float]


@dataclass(frozen=True)
class RecommendedTrack:
    """One pick: ``track`` is the ORM row (loaded in the caller's session); ``target`` is in the track plane."""

    rank: int
    track: Track
    strategy: str
    target: Point
    distance: float
    explanation: str
    liked: bool = False  # the user liked this track (when it was ranked); disliked tracks are never picked


@dataclass
class _Preferences:
    disliked: set[int] = field(default_factory=set)
    liked: set[int] = field(default_factory=set)
    recent: set[int] = field(default_factory=set)
    liked_artists: dict[str, str] = field(default_factory=dict)  # normalised name → name as written
    disliked_artists: set[str] = field(default_factory=set)
    liked_genres: set[str] = field(default_factory=set)


def default_strategy(probabilities: Mapping[str, float]) -> str:
    """``lift`` when the top emotion is sad, angry, fear or disgust, else (or with no reading) ``match``."""
    if max(probabilities.values(), default=0.0) <= 0.0:
        return "match"
    return "lift" if top_emotion(probabilities) in LIFT_BY_DEFAULT else "match"


def track_point(mood: Point) -> Point:
    """A mood's (valence, arousal) in the track plane: brightness 0.1..0.9, arousal 0.2..0.95."""
    return 0.1 + 0.8 * mood[0], 0.2 + 0.75 * mood[1]


def plan_targets(point: Point, strategy: str, n: int) -> list[Point]:
    """The *n* targets of *strategy* in the track plane, from the mood *point* (valence, arousal)."""
    v, a = track_point(point)
    if strategy == "match":
        return [(v, a)] * n
    if strategy == "calm":
        return [(min(max(v, 0.25), 0.5), CALM_AROUSAL)] * n
    if strategy == "energize":
        low, high = ENERGIZE_AROUSAL
        return [(min(max(v + 0.25, 0.6), 0.85), min(max(a + 0.3, low), high))] * n
    if strategy != "lift":
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    gv, ga = LIFT_GOAL
    length = float(np.hypot(gv - v, ga - a))
    if v >= gv or length == 0.0:
        return [(v, a)] * n
    fractions = [min(1.0, i * LIFT_STEP / length) for i in range(n)]
    return [(v + f * (gv - v), a + f * (ga - a)) for f in fractions]


def recommend_tracks(
    *,
    session: Session,
    user_id: int | None,
    probabilities: Mapping[str, float] | Sequence[float],
    strategy: str | None = None,
    n: int = 10,
    seed: int = 0,
    now: datetime | None = None,
    index: CatalogIndex | None = None,
) -> list[RecommendedTrack]:
    """Recommend up to *n* tracks for the mood given by 7 emotion *probabilities*.

    :param probabilities: ``{emotion: p}`` or 7 values in FER2013 order (see :mod:`awsome_core.emotions`).
    :param strategy: one of :data:`STRATEGIES`; None picks :func:`default_strategy`.
    :param now: timezone-aware "now" for the recently-recommended window (default: current UTC time).
    :param index: the catalog index to rank from, as :func:`rankable_index` returned it in this session
        (default: looked up here).
    :return: picks in list order, fewer than *n* only for a tiny catalog. An empty catalog first gets the
        packaged starter catalog (committed). Nothing else is stored: the caller records what it shows.
    """
    probs = to_probability_dict(probabilities) if not isinstance(probabilities, Mapping) else probabilities
    strategy = strategy or default_strategy(probs)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if not 1 <= n <= 100:
        raise ValueError(f"n must be between 1 and 100, not {n}")
    targets = plan_targets(mood_point(probs), strategy, n)
    index = index if index is not None else rankable_index(session)
    prefs = _load_preferences(session, user_id, now or datetime.now(UTC))
    liked_artist = index.mask_artists(prefs.liked_artists)
    liked_genre = index.mask_genres(prefs.liked_genres)
    picks = _rank(index, targets, strategy, prefs, liked_artist, liked_genre, seed)
    tracks = _load_tracks(session, [int(index.ids[p]) for p, _ in picks])
    if len(tracks) < len(picks):  # tracks deleted since the index was built
        clear_catalog_index_cache()
    context = Context(
        emotion=top_emotion(probs) if max(probs.values(), default=0.0) > 0 else "neutral",
        strategy=strategy,
        n=n,
        lifting=strategy == "lift" and targets[0] != targets[-1],
        liked_artists=prefs.liked_artists,
        liked_genres=frozenset(prefs.liked_genres),
    )
    results: list[RecommendedTrack] = []
    for position, slot in picks:
        track = tracks.get(int(index.ids[position]))
        if track is not None:
            why = explain_pick(track, slot, context, estimated=bool(index.estimated[position]),
                               arousal=float(index.arousal[position]))  # fmt: skip
            point = (float(index.brightness[position]), float(index.arousal[position]))
            distance = float(np.hypot(point[0] - targets[slot][0], point[1] - targets[slot][1]))
            liked = track.id in prefs.liked
            results.append(RecommendedTrack(len(results) + 1, track, strategy, targets[slot], distance, why, liked))
    return results


def rankable_index(session: Session) -> CatalogIndex:
    """The catalog index (cached, checked against the catalog with one cheap query); an empty catalog first
    gets the packaged starter catalog (committed)."""
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
        .order_by(Feedback.id.desc())  # the latest like names the artist in explanations
    )
    for track_id, value, artists, genre in feedback:
        if value < 0:
            prefs.disliked.add(int(track_id))
            prefs.disliked_artists.update(artist_keys(artists))
        elif value > 0:
            prefs.liked.add(int(track_id))
            for name in (a.strip() for a in (artists or "").split(";") if a.strip()):
                prefs.liked_artists.setdefault(name.lower(), name)
            if genre and genre.strip():
                prefs.liked_genres.add(genre.strip().lower())
    prefs.disliked_artists -= set(prefs.liked_artists)
    recent = select(RecommendationRow.track_id).where(
        RecommendationRow.user_id == user_id, RecommendationRow.created_at >= now - RECENT_WINDOW
    )
    prefs.recent = {int(t) for t in session.execute(recent).scalars()}
    return prefs


def _rank(
    index: CatalogIndex,
    targets: list[Point],
    strategy: str,
    prefs: _Preferences,
    liked_artist: np.ndarray,
    liked_genre: np.ndarray,
    seed: int,
) -> list[tuple[int, int]]:
    """Return ``(position in index, target slot)`` pairs in list order (see the module doc)."""
    if len(index) == 0:
        return []
    rng = np.random.default_rng(seed)
    offset = rng.uniform(0.0, JITTER, len(index))
    offset -= ARTIST_BOOST * liked_artist + GENRE_BOOST * liked_genre + POPULARITY_BOOST * index.popularity
    offset += DISLIKED_ARTIST_COST * index.mask_artists(prefs.disliked_artists) + NOT_MUSIC_COST * index.not_music
    if strategy == "calm":
        offset += CALM_RESTLESS_WEIGHT * index.restless
    elif strategy == "energize":
        offset -= ENERGIZE_DANCE_WEIGHT * index.danceability
    disliked, recent = index.mask_ids(prefs.disliked), index.mask_ids(prefs.recent)
    ranker = _Ranker(index, offset)
    slots: list[int | None] = [None] * len(targets)
    for blocked in (disliked | recent, disliked):
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
        """Distance to *target* in the track plane + aggression term + offset, in place (no hypot: 3x faster)."""
        score = self.index.brightness - target[0]
        score *= score
        d_arousal = self.index.arousal - target[1]
        d_arousal *= d_arousal
        score += d_arousal
        np.sqrt(score, out=score)
        weight = AGGRESSION_WEIGHT * min(1.0, max(-1.0, (target[0] - 0.4) / 0.4))
        score += weight * self.index.aggression
        score += self.offset
        return score

    def _first_allowed(self, order: np.ndarray, scores: np.ndarray) -> int | None:
        for position, score in zip(order.tolist(), scores.tolist(), strict=True):
            if score == np.inf:
                return None
            if not self.taken[position] and self.used_artists.isdisjoint(self.index.artists_of(position).tolist()):
                return int(position)
        return None


def _load_tracks(session: Session, track_ids: list[int]) -> dict[int, Track]:
    if not track_ids:
        return {}
    return {t.id: t for t in session.scalars(select(Track).where(Track.id.in_(track_ids)))}
