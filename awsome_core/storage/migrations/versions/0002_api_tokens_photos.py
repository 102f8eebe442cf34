"""API tokens, and opted-in photos in the database instead of each replica's disk.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

``api_tokens``: personal access tokens of the HTTP API (SHA-256 only). ``mood_event_photos``: the
downscaled JPEG of a reading whose user opted in; every replica sees it, and deleting the reading or
the account removes it in the same transaction (``ON DELETE CASCADE``).

Data: each reading with an ``image_path`` whose file still exists is moved into ``mood_event_photos``
(downscaled like new photos, see :func:`awsome_core.storage.photos.prepare_photo`) and its
``image_path`` cleared; the file is removed after the rows are written. A file that is missing or not
an image keeps its path (logged), so nothing is lost silently. Downgrade drops both tables (the photos
with them: they cannot be put back on a disk that may not be this replica's).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
DATETIME_UTC = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
PHOTO_BYTES = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", DATETIME_UTC, nullable=False),
        sa.Column("last_used_at", DATETIME_UTC, nullable=True),
        sa.Column("revoked_at", DATETIME_UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "mood_event_photos",
        sa.Column("mood_event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", PHOTO_BYTES, nullable=False),
        sa.Column("created_at", DATETIME_UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["mood_event_id"],
            ["mood_events.id"],
            name=op.f("fk_mood_event_photos_mood_event_id_mood_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mood_event_photos_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mood_event_id", name=op.f("pk_mood_event_photos")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_mood_event_photos_user_id", "mood_event_photos", ["user_id"], unique=False)
    _move_photo_files()


def _move_photo_files() -> None:
    from awsome_core.errors import InvalidImage
    from awsome_core.storage.photos import prepare_photo

    bind = op.get_bind()
    events = sa.table(
        "mood_events", sa.column("id"), sa.column("user_id"), sa.column("image_path"), sa.column("created_at")
    )
    photos = sa.table(
        "mood_event_photos",
        sa.column("mood_event_id"),
        sa.column("user_id"),
        sa.column("content_type"),
        sa.column("width"),
        sa.column("height"),
        sa.column("data"),
        sa.column("created_at"),
    )
    rows = bind.execute(
        sa.select(events.c.id, events.c.user_id, events.c.image_path, events.c.created_at).where(
            events.c.image_path.is_not(None)
        )
    ).all()
    moved: list[Path] = []
    for event_id, user_id, image_path, created_at in rows:
        path = Path(image_path)
        try:
            photo = prepare_photo(path.read_bytes())
        except (OSError, InvalidImage) as e:
            logger.warning("photo of reading %s not moved (%s): its path is kept", event_id, type(e).__name__)
            continue
        bind.execute(
            photos.insert().values(
                mood_event_id=event_id,
                user_id=user_id,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                data=photo.data,
                created_at=created_at,
            )
        )
        bind.execute(events.update().where(events.c.id == event_id).values(image_path=None))
        moved.append(path)
    for path in moved:
        try:
            path.unlink()
        except OSError as e:
            logger.warning("moved photo file %s could not be removed: %s", path, e)
    if rows:
        logger.info("moved %d of %d photo files into the database", len(moved), len(rows))


def downgrade() -> None:
    op.drop_table("mood_event_photos")
    op.drop_table("api_tokens")
