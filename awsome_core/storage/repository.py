"""Reading and writing users, mood events, recommendations and feedback.

Every function is keyword-only and takes the caller's ``session`` first. Functions flush (so ids
are set) but never commit: the caller owns the transaction. Every query is scoped by ``user_id``:
one user's rows are never returned for, or changed on behalf of, another user.
Datetimes in and out are timezone-aware UTC; a naive datetime raises ``ValueError``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Select, delete, func, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS, mood_point, top_emotion
from awsome_core.storage.models import (
    ApiToken,
    Feedback,
    LoginThrottle,
    MoodEvent,
    MoodEventPhoto,
    Recommendation,
    User,
    utcnow,
)

logger = logging.getLogger(__name__)

SOURCES: Final = ("live", "photo", "manual")
_T = TypeVar("_T")
SelectT = TypeVar("SelectT", bound=Select[Any])


@dataclass(frozen=True)
class RecommendationItem:
    """One recommended track as the recommender ranked it (rank 1 = best)."""

    track_id: int
    strategy: str  # match | lift | calm | energize
    rank: int
    explanation: str


# ----------------------------------------------------------------------------- users


def add_user(
    *, session: Session, username: str, display_name: str, password_hash: str, email: str | None = None
) -> User:
    """Add a user; *username* is stored lower-case. A taken name raises ``IntegrityError`` on flush
    (the session must then be rolled back)."""
    user = User(username=username.lower(), display_name=display_name, password_hash=password_hash, email=email)
    session.add(user)
    session.flush()
    return user


def get_user_by_username(*, session: Session, username: str) -> User | None:
    """Return the user called *username* in any letter case, or None."""
    return session.scalars(select(User).where(User.username == username.lower())).one_or_none()


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def delete_user(*, session: Session, user_id: int) -> None:
    """Delete the user and everything they own (feedback, recommendations, mood events).

    Image files named by ``MoodEvent.image_path`` are not touched: collect them first with
    :func:`list_image_paths` and remove them after the commit.
    """
    _delete_owned_rows(session=session, user_id=user_id)
    username = session.execute(select(User.username).where(User.id == user_id)).scalar_one_or_none()
    if username is not None:  # a later account of that name must not inherit the sign-in throttle
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"user:{username}"))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    session.execute(delete(User).where(User.id == user_id))
    session.flush()
    logger.info("deleted user id=%s", user_id)


# ----------------------------------------------------------------------------- mood events


def add_mood_event(
    *,
    session: Session,
    user_id: int,
    probabilities: Mapping[str, float],
    source: str,
    model_version: str,
    corrected_emotion: str | None = None,
    face_count: int = 1,
    client_event_id: str | None = None,
    created_at: datetime | None = None,
) -> MoodEvent:
    """Store one reading: *probabilities* has exactly the 7 :data:`EMOTIONS` keys, each in [0, 1].

    *source* is ``live``, ``photo`` or ``manual``; valence, arousal and the top emotion are computed
    here. Idempotent: if *client_event_id* was already stored for this user, that event is
    returned and nothing is written. Raises ``ValueError`` for invalid input.
    """
    event, _ = store_mood_event(
        session=session,
        user_id=user_id,
        probabilities=probabilities,
        source=source,
        model_version=model_version,
        corrected_emotion=corrected_emotion,
        face_count=face_count,
        client_event_id=client_event_id,
        created_at=created_at,
    )
    return event


def store_mood_event(
    *,
    session: Session,
    user_id: int,
    probabilities: Mapping[str, float],
    source: str,
    model_version: str,
    corrected_emotion: str | None = None,
    face_count: int = 1,
    client_event_id: str | None = None,
    created_at: datetime | None = None,
) -> tuple[MoodEvent, bool]:
    """:func:`add_mood_event`, and whether the event was written now (False: *client_event_id* was stored).

    On MySQL a new *client_event_id* costs no look-up first: the insert runs in a savepoint and only a
    unique-key clash (a retry, or a concurrent writer) reads the stored event. SQLite looks first.
    """
    probs = _validate_probabilities(probabilities)
    _validate_event_fields(source, corrected_emotion, face_count, client_event_id, created_at)

    def find(*, lock: bool = False) -> MoodEvent | None:
        query = select(MoodEvent).where(MoodEvent.user_id == user_id, MoodEvent.client_event_id == client_event_id)
        return session.scalars(query.with_for_update() if lock else query).one_or_none()

    sqlite = session.get_bind().dialect.name == "sqlite"
    if client_event_id is not None and sqlite and (existing := find()) is not None:
        return existing, False
    valence, arousal = mood_point(probs)
    event = MoodEvent(
        user_id=user_id,
        created_at=created_at or utcnow(),
        **probs,
        valence=valence,
        arousal=arousal,
        top_emotion=top_emotion(probs),
        corrected_emotion=corrected_emotion,
        source=source,
        model_version=model_version,
        face_count=face_count,
        client_event_id=client_event_id,
    )
    if client_event_id is None:
        session.add(event)
        session.flush()
        return event, True
    stored = _add_or_get_existing(session=session, obj=event, find_existing=find)
    return stored, stored is event


def list_mood_events(
    *,
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
    limit: int | None = None,
) -> list[MoodEvent]:
    """Return the user's events with ``since <= created_at < until``, oldest first.

    *sources* keeps only those sources; *limit* keeps the most recent *limit* events (still
    returned oldest first).
    """
    query = scope_mood_events(select(MoodEvent), user_id=user_id, since=since, until=until, sources=sources)
    if limit is None:
        return list(session.scalars(query.order_by(MoodEvent.created_at, MoodEvent.id)))
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    newest = session.scalars(query.order_by(MoodEvent.created_at.desc(), MoodEvent.id.desc()).limit(limit))
    return list(reversed(newest.all()))


def count_mood_events(*, session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(MoodEvent).where(MoodEvent.user_id == user_id)) or 0


def delete_mood_history(*, session: Session, user_id: int) -> int:
    """Delete the user's mood events, recommendations and feedback; return how many events went.

    Image files are not touched (see :func:`list_image_paths`).
    """
    deleted = _delete_owned_rows(session=session, user_id=user_id)
    session.flush()
    logger.info("deleted mood history of user id=%s (%d events)", user_id, deleted)
    return deleted


def delete_mood_event(*, session: Session, user_id: int, event_id: int) -> str | None:
    """Delete the user's reading *event_id* with its photo and recommendations (their feedback stays, unlinked).

    Returns the event's legacy ``image_path`` (a file to remove after the commit; usually None).
    Raises ``LookupError`` if the reading does not exist or is not this user's.
    """
    event = session.get(MoodEvent, event_id)
    if event is None or event.user_id != user_id:
        raise LookupError(f"no reading {event_id} for user {user_id}")
    image_path = event.image_path
    recommendation_ids = select(Recommendation.id).where(Recommendation.mood_event_id == event_id)
    session.execute(
        sa_update(Feedback).where(Feedback.recommendation_id.in_(recommendation_ids)).values(recommendation_id=None)
    )
    session.execute(delete(Recommendation).where(Recommendation.mood_event_id == event_id))
    session.execute(delete(MoodEventPhoto).where(MoodEventPhoto.mood_event_id == event_id))
    session.delete(event)
    session.flush()
    return image_path


def list_image_paths(*, session: Session, user_id: int) -> list[str]:
    """Return the stored image paths of the user's events (only users who opted in have any)."""
    query = select(MoodEvent.image_path).where(MoodEvent.user_id == user_id, MoodEvent.image_path.is_not(None))
    return [path for path in session.scalars(query) if path]


# ----------------------------------------------------------------------------- recommendations and feedback


def add_recommendations(
    *, session: Session, user_id: int, mood_event_id: int | None, items: Sequence[RecommendationItem]
) -> list[Recommendation]:
    """Store *items* as recommended to the user for their event *mood_event_id* (None: no event).

    Raises ``ValueError`` if the event is not this user's or a strategy is longer than 16 characters.
    """
    if mood_event_id is not None:
        event = session.get(MoodEvent, mood_event_id)
        if event is None or event.user_id != user_id:
            raise ValueError(f"mood event {mood_event_id} does not belong to user {user_id}")
    for item in items:
        if not 0 < len(item.strategy) <= 16:
            raise ValueError(f"strategy must be 1 to 16 characters, got {item.strategy!r}")
    now = utcnow()
    rows = [
        Recommendation(
            user_id=user_id,
            mood_event_id=mood_event_id,
            track_id=item.track_id,
            strategy=item.strategy,
            rank=item.rank,
            explanation=item.explanation,
            created_at=now,
        )
        for item in items
    ]
    session.add_all(rows)
    session.flush()
    return rows


def set_feedback(
    *, session: Session, user_id: int, track_id: int, value: int, recommendation_id: int | None = None
) -> Feedback:
    """Record the user's like (+1) or dislike (-1) of a track, replacing any earlier one.

    *recommendation_id*, if given, must be one of this user's recommendations of this track.
    Raises ``ValueError`` otherwise, or if *value* is not +1 or -1.
    """
    if value not in (1, -1) or isinstance(value, bool):
        raise ValueError(f"feedback value must be +1 or -1, not {value!r}")
    if recommendation_id is not None:
        rec = session.get(Recommendation, recommendation_id)
        if rec is None or rec.user_id != user_id or rec.track_id != track_id:
            raise ValueError(f"recommendation {recommendation_id} is not user {user_id}'s for track {track_id}")

    def find(*, lock: bool = False) -> Feedback | None:
        query = select(Feedback).where(Feedback.user_id == user_id, Feedback.track_id == track_id)
        return session.scalars(query.with_for_update() if lock else query).one_or_none()

    feedback = find()
    if feedback is None:
        new = Feedback(user_id=user_id, track_id=track_id, value=value, recommendation_id=recommendation_id)
        feedback = _add_or_get_existing(session=session, obj=new, find_existing=find)
        if feedback is new:
            return feedback
    feedback.value = value
    feedback.recommendation_id = recommendation_id
    feedback.created_at = utcnow()
    session.flush()
    return feedback


def clear_feedback(*, session: Session, user_id: int, track_id: int) -> bool:
    """Remove the user's like or dislike of the track (an undo); return whether there was one."""
    result = cast(
        CursorResult[Any],
        session.execute(delete(Feedback).where(Feedback.user_id == user_id, Feedback.track_id == track_id)),
    )
    return result.rowcount > 0


def get_feedback(*, session: Session, user_id: int) -> dict[int, int]:
    """Return the user's feedback as ``{track_id: +1 or -1}``."""
    rows = session.execute(select(Feedback.track_id, Feedback.value).where(Feedback.user_id == user_id))
    return dict(rows.all())  # NOTE: not dict(rows): a Result has .keys(), so dict() would treat it as a mapping


def recent_track_ids(*, session: Session, user_id: int, since: datetime) -> set[int]:
    """Return the ids of tracks recommended to the user at or after *since*."""
    _require_aware("since", since)
    query = select(Recommendation.track_id).where(Recommendation.user_id == user_id, Recommendation.created_at >= since)
    return set(session.scalars(query.distinct()))


# ----------------------------------------------------------------------------- helpers


def _validate_probabilities(probabilities: Mapping[str, float]) -> dict[str, float]:
    keys = set(probabilities)
    if keys != set(EMOTIONS):
        missing, extra = sorted(set(EMOTIONS) - keys), sorted(keys - set(EMOTIONS))
        raise ValueError(f"probabilities need exactly the keys {EMOTIONS}; missing {missing}, unknown {extra}")
    probs = {name: float(probabilities[name]) for name in EMOTIONS}
    bad = {name: p for name, p in probs.items() if not (math.isfinite(p) and 0.0 <= p <= 1.0)}
    if bad:
        raise ValueError(f"probabilities must be in [0, 1], got {bad}")
    return probs


def _validate_event_fields(
    source: str,
    corrected_emotion: str | None,
    face_count: int,
    client_event_id: str | None,
    created_at: datetime | None,
) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if corrected_emotion is not None and corrected_emotion not in EMOTIONS:
        raise ValueError(f"corrected_emotion must be one of {EMOTIONS} or None, not {corrected_emotion!r}")
    if face_count < 0:
        raise ValueError(f"face_count must not be negative, got {face_count}")
    if client_event_id is not None and not 0 < len(client_event_id) <= 36:
        raise ValueError("client_event_id must be 1 to 36 characters (a UUID)")
    _require_aware("created_at", created_at)


def time_range(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """WHERE clauses for ``since <= column < until`` (either may be None); both must be timezone-aware."""
    _require_aware("since", since)
    _require_aware("until", until)
    clauses = [] if since is None else [column >= since]
    return clauses if until is None else [*clauses, column < until]


def scope_mood_events(
    query: SelectT,
    *,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
) -> SelectT:
    """Restrict a SELECT over ``mood_events`` to one user, a time range and (optionally) some sources.

    The one place every reader of mood events (this module, history, export) scopes its queries.
    """
    query = query.where(MoodEvent.user_id == user_id, *time_range(MoodEvent.created_at, since, until))
    return query if sources is None else query.where(MoodEvent.source.in_(sorted(sources)))


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware (UTC) datetime, got naive {value!r}")


def _delete_owned_rows(*, session: Session, user_id: int) -> int:
    # Explicit deletes, children first, so nothing depends on the database enforcing FK cascades.
    session.execute(delete(Feedback).where(Feedback.user_id == user_id))
    session.execute(delete(Recommendation).where(Recommendation.user_id == user_id))
    session.execute(delete(MoodEventPhoto).where(MoodEventPhoto.user_id == user_id))
    result = cast(CursorResult[Any], session.execute(delete(MoodEvent).where(MoodEvent.user_id == user_id)))
    return result.rowcount


def _add_or_get_existing(*, session: Session, obj: _T, find_existing: Callable[..., _T | None]) -> _T:
    """Insert *obj*; if a concurrent writer just stored the same unique key, return theirs instead.

    The insert runs in a SAVEPOINT so a unique-key clash does not spoil the caller's transaction.
    The re-read is a locking read: under MySQL's REPEATABLE READ a plain SELECT would still see
    the snapshot without the other writer's row. On SQLite (whose driver mishandles SAVEPOINT
    outside an explicit transaction, and where writers are serialized anyway) it inserts plainly.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.add(obj)
        session.flush()
        return obj
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        existing = find_existing(lock=True)
        if existing is None:
            raise
        logger.info("this unique key was stored already (a retry, or a concurrent insert); returning the stored row")
        return existing
    return obj
