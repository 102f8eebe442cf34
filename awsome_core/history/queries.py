"""Read a user's history for the dashboard: readings as columns, what played, what they liked, what helped.

Every function is keyword-only, takes the caller's ``session`` and ``user_id`` first, and filters
every table by ``user_id`` (joins too): no other user's row can reach a result. Nothing commits.

Ranges are half-open, ``since <= created_at < until``, with timezone-aware UTC datetimes (None: open).
Readings come back as a :class:`HistoryFrame` of numpy columns rather than ORM objects, so a year of
readings (100,000 rows) loads in well under a second; aggregations (counts, weekday × hour grids,
streaks) are then done in numpy (see :mod:`awsome_core.history.summary`), identically on SQLite and
MySQL (whose date functions differ).

**The corrected emotion wins where there is one** (:mod:`awsome_core.history.correction`): every column of a
:class:`HistoryFrame` but ``model_emotion``, and every valence that "did it help?" compares, follow it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
from sqlalchemy import DateTime, and_, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS
from awsome_core.history.correction import apply_corrections, effective_valence
from awsome_core.music.recommender import STRATEGIES
from awsome_core.storage import repository
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track
from awsome_core.storage.repository import SOURCES

logger = logging.getLogger(__name__)

#: A reading counts as the result of a recommendation if it comes at most this long after it.
HELP_WINDOW: Final = timedelta(minutes=60)
_EMOTION_INDEX: Final = {name: i for i, name in enumerate(EMOTIONS)}
_SOURCE_INDEX: Final = {name: i for i, name in enumerate(SOURCES)}
#: ``created_at`` without the UTCDateTime decorator: naive UTC straight from the driver (cheaper per row).
_RAW_CREATED_AT: Final = type_coerce(MoodEvent.created_at, DateTime()).label("created_at")


@dataclass(frozen=True, eq=False)
class HistoryFrame:
    """A user's readings as columns, oldest first (ties by id).

    ``created_at`` is ``datetime64[us]`` holding UTC wall-clock time (numpy has no time zones).
    ``probabilities`` is ``(n, 7)`` in :data:`~awsome_core.emotions.EMOTIONS` order. ``emotion`` indexes
    EMOTIONS: the user's correction where they made one, else the model's top emotion; ``probabilities``,
    ``valence`` and ``arousal`` follow the same rule (a corrected reading is one-hot on its correction).
    ``model_emotion`` is the model's own top emotion; ``source`` indexes
    :data:`~awsome_core.storage.repository.SOURCES`.
    """

    event_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    created_at: np.ndarray = field(default_factory=lambda: np.zeros(0, "datetime64[us]"))
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, len(EMOTIONS))))
    valence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    arousal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    emotion: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    source: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    model_emotion: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))

    @property
    def corrected(self) -> np.ndarray:
        """Boolean mask of the readings whose emotion is the user's correction."""
        mask: np.ndarray = self.emotion != self.model_emotion
        return mask

    def __len__(self) -> int:
        return int(self.event_id.shape[0])


@dataclass(frozen=True)
class PlayedTrack:
    """One recommended track; ``feedback`` is the user's current like (+1) / dislike (-1) of it, or None."""

    recommended_at: datetime
    mood_event_id: int | None
    mood: str | None  # the reading's emotion (corrected if the user corrected it); None: no reading
    strategy: str
    rank: int
    track_id: int
    title: str
    artists: str
    spotify_id: str | None
    feedback: int | None


@dataclass(frozen=True)
class LikedTrack:
    """A track the user likes; ``plays`` counts its recommendations to the user within the range."""

    track_id: int
    title: str
    artists: str
    spotify_id: str | None
    liked_at: datetime
    plays: int


@dataclass(frozen=True)
class StrategyEffect:
    """How valence changed after recommendations of one strategy (see :func:`did_it_help`)."""

    strategy: str
    batches: int  # recommendation batches followed by a reading within HELP_WINDOW
    mean_delta_valence: float  # NaN when batches == 0
    improved: int  # batches after which valence went up


@dataclass(frozen=True)
class Dashboard:
    """Everything the History page shows for one range (see :func:`load_dashboard`)."""

    frame: HistoryFrame
    played: list[PlayedTrack]  # the newest recommendations in the range, at most load_dashboard's played_limit
    liked: list[LikedTrack]
    effects: list[StrategyEffect]
    has_any_history: bool  # False: the user has no reading at all, in any range
    played_total: int = 0  # all recommendations in the range (len(played) when they all fit)


def load_dashboard(
    *,
    session: Session,
    user_id: int,
    since: datetime | None,
    until: datetime | None,
    sources: Collection[str] | None = None,
    played_limit: int = 200,
    liked_limit: int = 10,
) -> Dashboard:
    """Run every query of the History page for one range: the benchmark times exactly this.

    *played_limit*: how many of the newest recommendations to load (the page lists a few and says how many
    there are: ``played_total``, counted in the same statement)."""
    frame = load_history(session=session, user_id=user_id, since=since, until=until, sources=sources)
    all_sources = frame if sources is None or set(sources) >= set(SOURCES) else None
    played, total = _played_and_total(session=session, user_id=user_id, since=since, until=until, limit=played_limit)
    return Dashboard(
        frame=frame,
        played=played,
        liked=liked_tracks(session=session, user_id=user_id, since=since, until=until, limit=liked_limit),
        effects=did_it_help(session=session, user_id=user_id, since=since, until=until, readings=all_sources),
        has_any_history=len(frame) > 0 or has_history(session=session, user_id=user_id),
        played_total=total,
    )


def has_history(*, session: Session, user_id: int) -> bool:
    """True if the user has at least one reading (an indexed EXISTS, cheap at any size)."""
    return bool(session.scalar(select(exists().where(MoodEvent.user_id == user_id))))


def sources_used(*, session: Session, user_id: int) -> list[str]:
    """The sources of the user's readings (SOURCES order; ``manual`` is only written through the HTTP API)."""
    used = set(session.scalars(select(MoodEvent.source).where(MoodEvent.user_id == user_id).distinct()))
    return [s for s in SOURCES if s in used]


def load_history(
    *,
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
) -> HistoryFrame:
    """Return the user's readings in ``[since, until)`` from *sources* (None: all) as a :class:`HistoryFrame`."""
    if sources is not None and not sources:
        return HistoryFrame()
    columns = [MoodEvent.id, _RAW_CREATED_AT, *(getattr(MoodEvent, e) for e in EMOTIONS), MoodEvent.valence]
    columns += [MoodEvent.arousal, MoodEvent.top_emotion, MoodEvent.corrected_emotion, MoodEvent.source]
    query = repository.scope_mood_events(select(*columns), user_id=user_id, since=since, until=until, sources=sources)
    rows = session.execute(query.order_by(MoodEvent.created_at, MoodEvent.id)).all()
    if not rows:
        return HistoryFrame()
    n, k = len(rows), len(EMOTIONS)
    cols = list(zip(*rows, strict=True))
    top, corrected, source = cols[k + 4], cols[k + 5], cols[k + 6]
    model = np.fromiter((_EMOTION_INDEX[t] for t in top), np.int8, n)
    fix = np.fromiter((_EMOTION_INDEX[c] if c else -1 for c in corrected), np.int8, n)
    probabilities, valence, arousal = apply_corrections(
        np.asarray(cols[2 : 2 + k], dtype=np.float64).T.copy(),
        np.asarray(cols[k + 2], dtype=np.float64),
        np.asarray(cols[k + 3], dtype=np.float64),
        fix,
    )
    return HistoryFrame(
        event_id=np.asarray(cols[0], dtype=np.int64),
        created_at=np.asarray(cols[1], dtype="datetime64[us]"),
        probabilities=probabilities,
        valence=valence,
        arousal=arousal,
        emotion=np.where(fix >= 0, fix, model).astype(np.int8),
        source=np.fromiter((_SOURCE_INDEX.get(s, -1) for s in source), np.int8, n),
        model_emotion=model,
    )


def played_tracks(
    *, session: Session, user_id: int, since: datetime | None = None, until: datetime | None = None, limit: int = 200
) -> list[PlayedTrack]:
    """Return the user's most recent *limit* recommendations in the range, newest batch first, by rank."""
    return _played_and_total(session=session, user_id=user_id, since=since, until=until, limit=limit)[0]


def _played_and_total(
    *, session: Session, user_id: int, since: datetime | None, until: datetime | None, limit: int
) -> tuple[list[PlayedTrack], int]:
    """:func:`played_tracks` and how many recommendations the range holds in all, in one statement (the count is
    a window over the rows before the LIMIT: every batch, every rank)."""
    mood = func.coalesce(MoodEvent.corrected_emotion, MoodEvent.top_emotion)
    query = (
        select(Recommendation.created_at, Recommendation.mood_event_id, mood, Recommendation.strategy)
        .add_columns(Recommendation.rank, Track.id, Track.title, Track.artists, Track.spotify_id, Feedback.value)
        .add_columns(func.count().over())
        .join(Track, Track.id == Recommendation.track_id)
        .outerjoin(MoodEvent, and_(MoodEvent.id == Recommendation.mood_event_id, MoodEvent.user_id == user_id))
        .outerjoin(Feedback, and_(Feedback.user_id == user_id, Feedback.track_id == Recommendation.track_id))
        .where(Recommendation.user_id == user_id, *repository.time_range(Recommendation.created_at, since, until))
        .order_by(Recommendation.created_at.desc(), Recommendation.id.desc())
        .limit(limit)
    )
    rows = session.execute(query).all()
    played = [PlayedTrack(*row[:-1]) for row in rows]
    # Newest batch first, each batch in rank order (the SQL order keeps the LIMIT on the newest rows).
    played.sort(key=lambda p: (-p.recommended_at.timestamp(), p.mood_event_id or 0, p.rank))
    return played, int(rows[0][-1]) if rows else 0


def liked_tracks(
    *, session: Session, user_id: int, since: datetime | None = None, until: datetime | None = None, limit: int = 10
) -> list[LikedTrack]:
    """Return the tracks the user likes, most played in the range first, then most recently liked."""
    plays = (
        select(Recommendation.track_id, func.count().label("plays"))
        .where(Recommendation.user_id == user_id, *repository.time_range(Recommendation.created_at, since, until))
        .group_by(Recommendation.track_id)
        .subquery()
    )
    n_plays = func.coalesce(plays.c.plays, 0)
    query = (
        select(Track.id, Track.title, Track.artists, Track.spotify_id, Feedback.created_at, n_plays)
        .join(Track, Track.id == Feedback.track_id)
        .outerjoin(plays, plays.c.track_id == Feedback.track_id)
        .where(Feedback.user_id == user_id, Feedback.value > 0)
        .order_by(n_plays.desc(), Feedback.created_at.desc(), Track.id)
        .limit(limit)
    )
    return [LikedTrack(*row) for row in session.execute(query)]


def did_it_help(
    *,
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    readings: HistoryFrame | None = None,
) -> list[StrategyEffect]:
    """For each recommendation batch in the range, the change in valence at the user's next reading.

    A batch is the recommendations made at one instant for one reading (``mood_event_id``) with one
    strategy; batches without a reading have no "before" and are skipped. "After" is the user's first
    reading strictly later than the batch and at most :data:`HELP_WINDOW` later (any source; the
    batch's own reading excluded). Returns one entry per strategy, match / lift / calm / energize
    first, then any other strategy found, with the mean Δvalence (after − before).

    *readings*, if given, must be the user's readings of every source in ``[since, until)`` (as
    :func:`load_history` returns them): then only readings at or after *until* are queried.
    """
    batches = session.execute(
        select(Recommendation.strategy, Recommendation.created_at, MoodEvent.id, effective_valence())
        .join(MoodEvent, and_(MoodEvent.id == Recommendation.mood_event_id, MoodEvent.user_id == user_id))
        .where(Recommendation.user_id == user_id, *repository.time_range(Recommendation.created_at, since, until))
        .distinct()
    ).all()
    deltas: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    if batches:
        first, last = min(b[1] for b in batches), max(b[1] for b in batches)
        if readings is None or until is None:
            ids, times, valence = _readings_between(session, user_id, MoodEvent.created_at > first, last + HELP_WINDOW)
        else:
            known = (readings.event_id, readings.created_at, readings.valence)
            ids, times, valence = known
            if last + HELP_WINDOW >= until:  # a batch's next reading may lie after the range: read those too
                tail = _readings_between(session, user_id, MoodEvent.created_at >= until, last + HELP_WINDOW)
                ids, times, valence = (np.concatenate(pair) for pair in zip(known, tail, strict=True))
        for strategy, at, event_id, before in batches:
            after = _next_reading(ids, times, valence, at, exclude_id=event_id)
            if after is not None:
                deltas.setdefault(strategy, []).append(after - before)
    return [_effect(strategy, values) for strategy, values in deltas.items()]


def _effect(strategy: str, deltas: list[float]) -> StrategyEffect:
    values = np.asarray(deltas, dtype=np.float64)
    mean = float(values.mean()) if values.size else math.nan
    return StrategyEffect(
        strategy=strategy, batches=int(values.size), mean_delta_valence=mean, improved=int((values > 0).sum())
    )


def _readings_between(
    session: Session, user_id: int, lower: Any, end: datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, datetime64 UTC times, valences) of the user's readings matching *lower* with ``created_at <= end``."""
    query = (
        select(MoodEvent.id, _RAW_CREATED_AT, effective_valence())
        .where(MoodEvent.user_id == user_id, lower, MoodEvent.created_at <= end)
        .order_by(MoodEvent.created_at, MoodEvent.id)
    )
    rows = session.execute(query).all()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, "datetime64[us]"), np.zeros(0)
    ids, times, valence = zip(*rows, strict=True)
    return np.asarray(ids, np.int64), np.asarray(times, "datetime64[us]"), np.asarray(valence, np.float64)


def _next_reading(
    ids: np.ndarray, times: np.ndarray, valence: np.ndarray, at: datetime, *, exclude_id: int
) -> float | None:
    """Valence of the first reading after *at* (aware UTC) and within HELP_WINDOW, or None."""
    t = np.datetime64(at.astimezone(UTC).replace(tzinfo=None), "us")
    limit = t + np.timedelta64(int(HELP_WINDOW.total_seconds() * 1e6), "us")
    i = int(np.searchsorted(times, t, side="right"))
    while i < len(ids) and ids[i] == exclude_id:
        i += 1
    if i < len(ids) and times[i] <= limit:
        return float(valence[i])
    return None
