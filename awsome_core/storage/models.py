"""SQLAlchemy 2.x tables. Schema changes go through Alembic (``storage/migrations``), never ``create_all``
in production. All timestamps are timezone-aware UTC (stored naive-UTC on MySQL/SQLite, see ``UTCDateTime``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without tzinfo (MySQL DATETIME has none); always returns aware UTC datetimes.

    On MySQL/MariaDB the column is ``DATETIME(6)``: plain DATETIME drops (MariaDB) or rounds (MySQL)
    the fractions of a second.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)  # lower-case, validated in auth.py
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(100))  # bcrypt, 60 chars
    store_images: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-in on the Account page
    # Login cookies issued before this instant are refused (set on logout and password change).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginThrottle(Base):
    """Failed sign-ins per key: ``user:<username>`` (also for names that don't exist, so the lockout
    message reveals nothing) and ``client:<address>``. See awsome_core/auth.py."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MoodEvent(Base):
    """One reading of a user's mood: all 7 probabilities (FER2013 order) and where it came from."""

    __tablename__ = "mood_events"
    __table_args__ = (
        Index("ix_mood_events_user_id_created_at", "user_id", "created_at"),
        UniqueConstraint("user_id", "client_event_id", name="uq_mood_events_user_id_client_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    angry: Mapped[float] = mapped_column(Double)
    disgust: Mapped[float] = mapped_column(Double)
    fear: Mapped[float] = mapped_column(Double)
    happy: Mapped[float] = mapped_column(Double)
    sad: Mapped[float] = mapped_column(Double)
    surprise: Mapped[float] = mapped_column(Double)
    neutral: Mapped[float] = mapped_column(Double)
    valence: Mapped[float] = mapped_column(Double)
    arousal: Mapped[float] = mapped_column(Double)
    top_emotion: Mapped[str] = mapped_column(String(16))
    corrected_emotion: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the user's correction
    source: Mapped[str] = mapped_column(String(16))  # live | photo | manual
    model_version: Mapped[str] = mapped_column(String(64))
    face_count: Mapped[int] = mapped_column(SmallInteger, default=1)
    client_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # idempotent retries
    # NOTE: no longer written: opted-in photos live in mood_event_photos (migration 0002 moved the files there,
    # so every replica sees them). Kept so older rows and downgrades keep their column.
    image_path: Mapped[str | None] = mapped_column(String(255), nullable=True)


#: Photo bytes: MEDIUMBLOB (16 MB) on MySQL, where a plain BLOB stops at 64 KB.
PHOTO_BYTES = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class MoodEventPhoto(Base):
    """The opted-in photo of a reading, downscaled JPEG, in the database so that every replica sees it and
    deleting the reading or the account removes it in the same transaction (``ON DELETE CASCADE``)."""

    __tablename__ = "mood_event_photos"
    __table_args__ = (Index("ix_mood_event_photos_user_id", "user_id"),)

    mood_event_id: Mapped[int] = mapped_column(ForeignKey("mood_events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(32))  # image/jpeg
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(PHOTO_BYTES)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A personal access token for the HTTP API. Only its SHA-256 is stored (the token is shown once);
    ``prefix`` (its first characters) lets the user tell tokens apart. Revoked tokens stay, for the record."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Track(Base):
    """A catalog track. ``spotify_id`` is None for starter tracks written by us (rendered as a search link)."""

    __tablename__ = "tracks"
    __table_args__ = (
        Index("ix_tracks_valence_energy", "valence", "energy"),
        Index("ix_tracks_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spotify_id: Mapped[str | None] = mapped_column(String(22), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(255))
    artists: Mapped[str] = mapped_column(String(512))  # ";"-separated
    album: Mapped[str | None] = mapped_column(String(255), nullable=True)
    genre: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mood_tag: Mapped[str | None] = mapped_column(String(16), nullable=True)
    popularity: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    explicit: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    valence: Mapped[float | None] = mapped_column(Double, nullable=True)
    energy: Mapped[float | None] = mapped_column(Double, nullable=True)
    danceability: Mapped[float | None] = mapped_column(Double, nullable=True)
    acousticness: Mapped[float | None] = mapped_column(Double, nullable=True)
    instrumentalness: Mapped[float | None] = mapped_column(Double, nullable=True)
    speechiness: Mapped[float | None] = mapped_column(Double, nullable=True)
    liveness: Mapped[float | None] = mapped_column(Double, nullable=True)
    loudness: Mapped[float | None] = mapped_column(Double, nullable=True)
    tempo: Mapped[float | None] = mapped_column(Double, nullable=True)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "starter", "spotify_tracks_dataset", "data_moods"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When an import last wrote the row (None: not since migration 0003). Indexed: the recommender's catalog
    # index checks max(updated_at) to see another replica's import (awsome_core/music/index.py).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=utcnow)


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recommendations_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mood_event_id: Mapped[int | None] = mapped_column(ForeignKey("mood_events.id", ondelete="CASCADE"), nullable=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    strategy: Mapped[str] = mapped_column(String(16))  # match | lift | calm | energize
    rank: Mapped[int] = mapped_column(SmallInteger)
    explanation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Feedback(Base):
    """A user's latest like (+1) or dislike (-1) of a track; one row per (user, track)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("user_id", "track_id", name="uq_feedback_user_id_track_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL"), nullable=True
    )
    value: Mapped[int] = mapped_column(SmallInteger)  # +1 like, -1 dislike
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
