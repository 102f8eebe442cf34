"""Storing a confirmed reading for the signed-in user (shared by the photo and live pages)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

import streamlit as st

from awsome_core.storage import repository
from awsome_core.vision import EmotionClassifier, get_classifier
from ui.runtime import db_session, get_settings

logger = logging.getLogger(__name__)


def classifier() -> EmotionClassifier:
    """The served emotion model, loaded once per process by :func:`get_classifier` (thread-safe predict).

    Served with mirror test-time augmentation: +0.8 points on PublicTest (70.6% → 71.4%, models/README.md)
    for about 1.4 ms more per face (`awsome evaluate --tta`, `scripts/bench_vision.py`).
    """
    return get_classifier(str(get_settings().model_path), tta=True)


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

    The photo is written under the data directory only if the user opted in on the Account page.
    """
    ids: dict[str, str] = st.session_state.setdefault("_reading_ids", {})
    client_event_id = ids.setdefault(reading_key, str(uuid.uuid4()))
    with db_session() as session:
        event = repository.add_mood_event(
            session=session,
            user_id=user_id,
            probabilities=dict(probabilities),
            source=source,
            model_version=classifier().model_version,
            corrected_emotion=corrected_emotion,
            face_count=face_count,
            client_event_id=client_event_id,
        )
        user = repository.get_user(session=session, user_id=user_id)
        if image_bytes and user is not None and user.store_images and event.image_path is None:
            folder = get_settings().data_dir / "images" / str(user_id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{client_event_id}.img"
            path.write_bytes(image_bytes)
            event.image_path = str(path)
        session.commit()
        return int(event.id)
