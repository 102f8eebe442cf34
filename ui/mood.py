"""Storing a confirmed reading for the signed-in user (shared by the photo and live pages).

Exactly once, even while the database is down: each reading gets a ``client_event_id`` (a UUID) the first
time it is confirmed, and :func:`~awsome_core.storage.repository.add_mood_event` is idempotent on it. If the
database cannot be reached, the reading (with its original time) is kept in this browser session and
:class:`ReadingKept` says so; :func:`retry_pending_readings` (run on every script run by
``ui.session.sync_login_state``) writes it once the database is back. A write whose answer was lost (the
connection dropped after the commit) is retried with the same id and finds the stored row: no duplicate.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import streamlit as st

from awsome_core.emotions import EMOTIONS
from awsome_core.errors import StorageUnavailable
from awsome_core.services import readings
from awsome_core.storage.models import utcnow
from awsome_core.vision import EmotionClassifier, get_classifier
from awsome_core.vision.classifier import serving_tta
from ui.music import forget_picks
from ui.runtime import get_sessionmaker, get_settings, show_errors

logger = logging.getLogger(__name__)

_IDS: Final = "_reading_ids"  # reading_key -> client_event_id
_STORED: Final = "_stored_readings"  # reading_key -> mood event id
_PENDING: Final = "_pending_readings"  # reading_key -> _Pending, oldest first
_LAST_TRY: Final = "_pending_last_try"
MAX_PENDING: Final = 50
RETRY_INTERVAL_S: Final = 2.0  # while the database is down, try at most this often (a black-holed host costs 5 s)


KEPT_MESSAGE: Final = (
    "The database is unavailable right now. Your reading is kept and will be saved to your history as soon as "
    "the database is back."
)


class ReadingKept(StorageUnavailable):
    """The database is down; the reading is kept in this session and saved as soon as it is back."""

    def __init__(self) -> None:
        super().__init__(KEPT_MESSAGE)


@dataclass(frozen=True)
class _Pending:
    """A confirmed reading not written yet. ``image_bytes`` only when the user keeps photos (bounded by
    :data:`MAX_PENDING` × the upload limit, in this session only)."""

    reading_key: str
    user_id: int
    client_event_id: str
    probabilities: dict[str, float]
    source: str
    face_count: int
    corrected_emotion: str | None
    created_at: datetime = field(default_factory=utcnow)
    image_bytes: bytes | None = field(default=None, repr=False)


def classifier() -> EmotionClassifier:
    """The served emotion model for photos, loaded once per process by :func:`get_classifier` (thread-safe).

    Served the way its card says (``serving_tta``, possibly a mode per use; live video asks through
    :func:`live_classifier`); the accuracy of each mode is on the model card (models/README.md, written by
    `awsome evaluate --tta --tta-mode flip shift --update-card`).
    """
    return get_classifier(str(get_settings().model_path), tta=None)


def live_classifier() -> EmotionClassifier:
    """The same model as :func:`classifier` with the card's TTA for live video (cheaper per frame)."""
    model = classifier()
    return model.with_tta(serving_tta(model.card, "live"))


def store_reading(
    *,
    user_id: int,
    probabilities: Mapping[str, float],
    source: str,
    reading_key: str,
    face_count: int = 1,
    corrected_emotion: str | None = None,
    image_bytes: bytes | None = None,
) -> int:
    """Store the reading once per *reading_key* (a rerun or a retry never duplicates it); return its id.

    The photo is kept (in the database, downscaled) only if the user opted in on the Account page.
    Raises :class:`ReadingKept` when the database is down: the reading is kept and retried later.
    """
    stored: dict[str, int] = st.session_state.setdefault(_STORED, {})
    if reading_key in stored:
        return stored[reading_key]
    pending: dict[str, _Pending] = st.session_state.setdefault(_PENDING, {})
    ids: dict[str, str] = st.session_state.setdefault(_IDS, {})
    reading = pending.get(reading_key) or _Pending(
        reading_key=reading_key,
        user_id=user_id,
        client_event_id=ids.setdefault(reading_key, str(uuid.uuid4())),
        probabilities=dict(probabilities),
        source=source,
        face_count=face_count,
        corrected_emotion=corrected_emotion,
        image_bytes=image_bytes,
    )
    try:
        event_id = _write(reading)
    except StorageUnavailable as e:
        if len(pending) >= MAX_PENDING and reading_key not in pending:
            raise StorageUnavailable(
                f"The database is unavailable right now and {MAX_PENDING} readings are already waiting; "
                "this one was not kept. Please try again later."
            ) from e
        pending[reading_key] = reading
        st.session_state[_LAST_TRY] = time.monotonic()
        logger.warning("database down: reading kept in the session (%d waiting)", len(pending))
        raise ReadingKept() from e
    pending.pop(reading_key, None)
    stored[reading_key] = event_id
    return event_id


def retry_pending_readings(user_id: int) -> int:
    """Write this user's kept readings, oldest first, if the database is back; return how many were saved.

    Cheap when nothing waits; while the database stays down, tries at most every :data:`RETRY_INTERVAL_S`.
    """
    pending: dict[str, _Pending] = st.session_state.get(_PENDING) or {}
    waiting = [r for r in pending.values() if r.user_id == user_id]
    if not waiting or time.monotonic() - st.session_state.get(_LAST_TRY, 0.0) < RETRY_INTERVAL_S:
        return 0
    stored: dict[str, int] = st.session_state.setdefault(_STORED, {})
    saved = 0
    for reading in waiting:
        try:
            stored[reading.reading_key] = _write(reading)
            saved += 1
        except StorageUnavailable:
            st.session_state[_LAST_TRY] = time.monotonic()
            break
        except Exception:  # a reading that can never be written (e.g. its user was deleted): drop it, log it
            logger.exception("dropping a kept reading that cannot be stored")
        pending.pop(reading.reading_key, None)
    if saved:
        logger.info("database back: %d kept reading(s) saved", saved)
    return saved


def save_kept_readings(user_id: int) -> None:
    """:func:`retry_pending_readings`, with a toast when some were saved.

    Runs at the start of every script run (``ui.session.sync_login_state``) and again on the pages that show
    readings (Photo, History), so that they show it at once (a no-op when nothing waits).
    """
    if saved := retry_pending_readings(user_id):
        st.toast(f"The database is back: {saved} kept reading{'s' if saved != 1 else ''} saved to your history.")


def pending_count(user_id: int) -> int:
    """How many of this user's readings are waiting for the database."""
    return sum(r.user_id == user_id for r in (st.session_state.get(_PENDING) or {}).values())


def is_pending(reading_key: str) -> bool:
    """True while this reading waits for the database."""
    return reading_key in (st.session_state.get(_PENDING) or {})


def show_pending_notice(user_id: int) -> None:
    """Say how many of this user's readings wait for the database (nothing when none do)."""
    if n := pending_count(user_id):
        st.warning(
            f"{n} reading{'s' if n != 1 else ''} from this session {'are' if n != 1 else 'is'} waiting for the "
            "database and will be saved to your history as soon as it is back."
        )


def stored_event_id(reading_key: str) -> int | None:
    """The mood event id of a reading stored in this session (also after a retry), or None."""
    return (st.session_state.get(_STORED) or {}).get(reading_key)


def answers(predicted: str) -> list[str]:
    """The answers to "Did we get it right?": the predicted emotion first, then only the other emotions."""
    return [predicted, *(e for e in EMOTIONS if e != predicted)]


def answer_label(answer: str, predicted: str) -> str:
    """``Yes, {predicted}`` for the predicted emotion, ``No, I feel {answer}`` for the others."""
    return f"Yes, {answer}" if answer == predicted else f"No, I feel {answer}"


def correct_stored_reading(user_id: int, event_id: int, emotion: str | None, *, page: str) -> bool:
    """Store the user's answer for a stored reading (None: the model was right) through
    ``services.readings.correct_reading``; True when stored, else a message is shown.

    Drops this session's music lists for the reading (``ui.music`` keeps them per reading and strategy), so
    that the next draw ranks again for the correction.
    """
    with show_errors("Saving your correction"):
        readings.correct_reading(sessions=get_sessionmaker(), user_id=user_id, reading_id=event_id, emotion=emotion)
        forget_picks(event_id)
        logger.info("reading %s corrected on the %s page", event_id, page)
        return True
    return False


def _write(reading: _Pending) -> int:
    """Store the reading (idempotent on its client_event_id); raise StorageUnavailable when the DB is down."""
    stored = readings.save_reading(
        sessions=get_sessionmaker(),
        user_id=reading.user_id,
        probabilities=reading.probabilities,
        source=reading.source,
        model_version=classifier().model_version,
        client_event_id=reading.client_event_id,
        face_count=reading.face_count,
        corrected_emotion=reading.corrected_emotion,
        created_at=reading.created_at,
        photo=reading.image_bytes,
    )
    return stored.id
