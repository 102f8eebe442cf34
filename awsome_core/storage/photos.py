"""Opted-in photos of readings, stored in the database (``mood_event_photos``) so every replica sees them.

A photo is kept only when its user opted in (Account page, ``User.store_images``). What is stored is not
the upload itself but a re-encoded JPEG whose long side is at most :data:`MAX_SIDE` pixels: EXIF
orientation applied, metadata (GPS, camera) dropped, bounded size. Deleting the reading, the history or
the account deletes the photo in the same transaction (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
from sqlalchemy import select
from sqlalchemy.orm import Session

from awsome_core.errors import InvalidImage
from awsome_core.storage.models import MoodEvent, MoodEventPhoto
from awsome_core.vision.image_io import decode_image

MAX_SIDE: Final = 1024
JPEG_QUALITY: Final = 85
#: Largest upload a photo is prepared from (the app's own limit is lower; this bounds the migration too).
MAX_SOURCE_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: JPEG bytes and their pixel size."""

    content_type: str
    width: int
    height: int
    data: bytes


def prepare_photo(data: bytes) -> PreparedPhoto:
    """Re-encode uploaded *data* (JPEG, PNG or WebP) as a JPEG of long side ≤ :data:`MAX_SIDE`.

    Raises :class:`~awsome_core.errors.InvalidImage` for bytes that are not a readable picture.
    """
    image = decode_image(data, max_bytes=MAX_SOURCE_BYTES, max_side=MAX_SIDE)
    height, width = image.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale < 1:  # decode_image reduces by an integer factor only
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        height, width = image.shape[:2]
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR array
        raise InvalidImage("The picture could not be stored.")
    return PreparedPhoto("image/jpeg", int(width), int(height), encoded.tobytes())


def add_photo(*, session: Session, event: MoodEvent, photo: PreparedPhoto) -> MoodEventPhoto:
    """Store *photo* for *event* (flush, no commit); an event that already has one keeps it (idempotent)."""
    existing = session.get(MoodEventPhoto, event.id)
    if existing is not None:
        return existing
    row = MoodEventPhoto(
        mood_event_id=event.id,
        user_id=event.user_id,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        data=photo.data,
    )
    session.add(row)
    session.flush()
    return row


def get_photo(*, session: Session, user_id: int, event_id: int) -> MoodEventPhoto | None:
    """The photo of the user's reading *event_id*, or None (no photo, or not this user's reading)."""
    query = select(MoodEventPhoto).where(MoodEventPhoto.mood_event_id == event_id, MoodEventPhoto.user_id == user_id)
    return session.scalars(query).one_or_none()


def photo_event_ids(*, session: Session, user_id: int) -> set[int]:
    """Ids of the user's readings that have a stored photo."""
    return set(session.scalars(select(MoodEventPhoto.mood_event_id).where(MoodEventPhoto.user_id == user_id)))
