"""Readings: store, correct, list, delete; the opted-in photo travels with its reading.

A reading's emotion is its user's correction where there is one, else the model's top emotion
(:attr:`Reading.emotion`): History, the export and the music all follow that one rule.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import InvalidImage, InvalidInput, NotFound
from awsome_core.history import userdata
from awsome_core.storage import photos, repository
from awsome_core.storage.db import session_scope
from awsome_core.storage.models import MoodEvent

logger = logging.getLogger(__name__)

MAX_PAGE = 200
NOT_FOUND = "That reading does not exist, or it is not yours."


@dataclass(frozen=True)
class Reading:
    """A stored reading. ``probabilities`` has the 7 emotions in FER2013 order, each in [0, 1], summing to 1;
    ``created_at`` is aware UTC; valence and arousal are in [-1, 1]."""

    id: int
    created_at: datetime
    source: str
    probabilities: dict[str, float]
    top_emotion: str
    corrected_emotion: str | None
    valence: float
    arousal: float
    face_count: int
    model_version: str
    has_photo: bool

    @property
    def emotion(self) -> str:
        """The correction where there is one, else the model's top emotion."""
        return self.corrected_emotion or self.top_emotion


@dataclass(frozen=True)
class ReadingPage:
    """Readings newest first; ``next`` is the cursor of the following page, None after the last."""

    items: list[Reading]
    next: str | None


def to_reading(event: MoodEvent, *, has_photo: bool) -> Reading:
    return Reading(
        id=event.id,
        created_at=event.created_at,
        source=event.source,
        probabilities={e: float(getattr(event, e)) for e in EMOTIONS},
        top_emotion=event.top_emotion,
        corrected_emotion=event.corrected_emotion,
        valence=float(event.valence),
        arousal=float(event.arousal),
        face_count=int(event.face_count),
        model_version=event.model_version,
        has_photo=has_photo,
    )


def save_reading(
    *,
    sessions: sessionmaker[Session],
    user_id: int,
    probabilities: Mapping[str, float],
    source: str,
    model_version: str,
    client_event_id: str | None = None,
    face_count: int = 1,
    corrected_emotion: str | None = None,
    created_at: datetime | None = None,
    photo: bytes | None = None,
) -> Reading:
    """Store one reading (one commit) and return it.

    Idempotent on *client_event_id* (a UUID the client makes once per reading): a retry after a lost answer
    returns the stored reading and writes nothing new. *photo* (the uploaded bytes) is kept, as a downscaled
    JPEG in the database, only if the user opted in (``store_images``); a photo that cannot be re-encoded is
    skipped (logged), never a reason to lose the reading. Raises ``ValueError`` for invalid probabilities or
    fields, :class:`NotFound` if the user no longer exists.
    """
    corrected = _valid_correction(corrected_emotion)
    with session_scope(sessions) as session:
        user = repository.get_user(session=session, user_id=user_id)
        if user is None:
            raise NotFound("Your account could not be found.")
        event, written = repository.store_mood_event(
            session=session,
            user_id=user_id,
            probabilities=probabilities,
            source=source,
            model_version=model_version,
            corrected_emotion=corrected,
            face_count=face_count,
            client_event_id=client_event_id,
            created_at=created_at,
        )
        if corrected is not None and corrected == event.top_emotion:
            event.corrected_emotion = None  # "yes, that's right" is not a correction
        has_photo = False
        if photo and user.store_images:
            try:
                photos.add_photo(session=session, event=event, photo=photos.prepare_photo(photo))
                has_photo = True
            except InvalidImage:
                logger.warning("photo of reading %s could not be re-encoded; reading kept without it", event.id)
        elif not written:  # a retry: the reading (and any photo) stored the first time
            has_photo = photos.get_photo(session=session, user_id=user_id, event_id=event.id) is not None
        session.commit()
        return to_reading(event, has_photo=has_photo)


def correct_reading(*, sessions: sessionmaker[Session], user_id: int, reading_id: int, emotion: str | None) -> Reading:
    """Set the user's correction of a stored reading (None, or the model's own top emotion: no correction)."""
    corrected = _valid_correction(emotion)
    with session_scope(sessions) as session:
        event = _owned_event(session, user_id, reading_id)
        event.corrected_emotion = None if corrected == event.top_emotion else corrected
        session.commit()
        return to_reading(event, has_photo=_has_photo(session, user_id, reading_id))


def get_reading(*, sessions: sessionmaker[Session], user_id: int, reading_id: int) -> Reading:
    """The user's reading *reading_id*; :class:`NotFound` if it is not theirs."""
    with session_scope(sessions) as session:
        event = _owned_event(session, user_id, reading_id)
        return to_reading(event, has_photo=_has_photo(session, user_id, reading_id))


def get_reading_photo(*, sessions: sessionmaker[Session], user_id: int, reading_id: int) -> tuple[str, bytes]:
    """``(content_type, bytes)`` of the reading's stored photo; :class:`NotFound` if none or not theirs."""
    with session_scope(sessions) as session:
        photo = photos.get_photo(session=session, user_id=user_id, event_id=reading_id)
        if photo is None:
            raise NotFound("That reading has no stored photo, or it is not yours.")
        return photo.content_type, photo.data


def list_readings(
    *,
    sessions: sessionmaker[Session],
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ReadingPage:
    """The user's readings in ``[since, until)``, newest first, *limit* (1–200) per page.

    *cursor* is the ``next`` of the previous page (opaque; a malformed one is :class:`InvalidInput`).
    Keyset pagination on (created_at, id): a reading stored meanwhile never shifts a page.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.")
    with session_scope(sessions) as session:
        query = repository.scope_mood_events(
            select(MoodEvent), user_id=user_id, since=since, until=until, sources=sources
        )
        if cursor is not None:
            at, last_id = decode_cursor(cursor)
            query = query.where(
                or_(MoodEvent.created_at < at, and_(MoodEvent.created_at == at, MoodEvent.id < last_id))
            )
        query = query.order_by(MoodEvent.created_at.desc(), MoodEvent.id.desc()).limit(limit + 1)
        events = list(session.scalars(query))
        with_photo = photos.photo_event_ids(session=session, user_id=user_id) if events else set()
        items = [to_reading(e, has_photo=e.id in with_photo) for e in events[:limit]]
        more = len(events) > limit
        return ReadingPage(items, encode_cursor(items[-1]) if more and items else None)


def delete_reading(
    *, sessions: sessionmaker[Session], user_id: int, reading_id: int, data_dir: Path | None = None
) -> None:
    """Delete one reading with its photo and the recommendations made for it (one commit)."""
    with session_scope(sessions) as session:
        try:
            legacy_path = repository.delete_mood_event(session=session, user_id=user_id, event_id=reading_id)
        except LookupError:
            raise NotFound(NOT_FOUND) from None
        session.commit()
    if legacy_path and data_dir is not None:
        userdata.remove_image_files([legacy_path], base_dir=data_dir)


def delete_history(*, sessions: sessionmaker[Session], user_id: int, data_dir: Path | None = None) -> int:
    """Delete all the user's readings, photos, recommendations and feedback (one commit); return how many
    readings went. Photo files from before photos moved into the database are removed after the commit."""
    with session_scope(sessions) as session:
        paths = repository.list_image_paths(session=session, user_id=user_id)
        deleted = repository.delete_mood_history(session=session, user_id=user_id)
        session.commit()
    if paths and data_dir is not None:
        userdata.remove_image_files(paths, base_dir=data_dir)
    return deleted


def encode_cursor(reading: Reading) -> str:
    raw = f"{reading.created_at.isoformat()}|{reading.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Inverse of :func:`encode_cursor`; :class:`InvalidInput` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, last_id = raw.partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(last_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("The cursor is not one this server gave out.") from None


def _valid_correction(emotion: str | None) -> str | None:
    if emotion is None:
        return None
    if emotion not in EMOTIONS:
        raise InvalidInput(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}.")
    return emotion


def _owned_event(session: Session, user_id: int, reading_id: int) -> MoodEvent:
    event = session.get(MoodEvent, reading_id)
    if event is None or event.user_id != user_id:
        raise NotFound(NOT_FOUND)
    return event


def _has_photo(session: Session, user_id: int, reading_id: int) -> bool:
    return photos.get_photo(session=session, user_id=user_id, event_id=reading_id) is not None
