"""A user's data leaving the app: export as CSV or JSON, and deletion of history or the whole account.

The readings export has one row per reading, oldest first, with the columns :data:`EXPORT_COLUMNS`:
``created_at`` as ISO 8601 with its UTC offset, in the time zone ``tz`` (an IANA name such as
``"Europe/Berlin"``; None: UTC, ``2026-03-01T08:15:00.123456+00:00``), the source, the model's 7
probabilities (FER2013 order), valence, arousal, the model's top emotion, the user's correction (empty /
null if none), ``emotion`` and the model version. **The corrected emotion wins where there is one**
(:mod:`awsome_core.history.correction`): ``emotion`` is the correction, else the model's top emotion, and
``valence`` / ``arousal`` are the corrected emotion's coordinates, as on the History page; the
probability columns stay the model's own output. With ``digits`` (the History page passes
:data:`PAGE_DIGITS`) floats are rounded to that many decimals; without, they are written in Python's
shortest round-trip form and read back exactly as the database holds them (MySQL ``FLOAT`` columns keep
single precision, about 7 digits), which is what the HTTP API's ``GET /v1/export`` gives.

The music export (:func:`music_rows`, columns :data:`MUSIC_COLUMNS`) has one row per recommended track,
oldest first: when (same time rules), the reading's emotion (the correction wins), the strategy, the rank,
the track, its artists and Spotify id, and the user's current rating of it (``liked``, ``disliked`` or
empty).

Deletion goes through :mod:`awsome_core.storage.repository` (which deletes feedback, recommendations
and readings, and for an account the user row). Opted-in image files are removed only after the
caller commits: :func:`delete_history` / :func:`delete_account` return their paths for
:func:`remove_image_files`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS
from awsome_core.history.correction import corrected_point
from awsome_core.history.summary import resolve_timezone
from awsome_core.storage import repository
from awsome_core.storage.models import Feedback, MoodEvent, Recommendation, Track

logger = logging.getLogger(__name__)

EXPORT_COLUMNS: Final = (
    "created_at",
    "source",
    *EMOTIONS,
    "valence",
    "arousal",
    "top_emotion",
    "corrected_emotion",
    "emotion",
    "model_version",
)
MUSIC_COLUMNS: Final = ("recommended_at", "emotion", "strategy", "rank", "title", "artists", "spotify_id", "rating")
PAGE_DIGITS: Final = 3  # decimals of the History page's downloads
_RATINGS: Final = {1: "liked", -1: "disliked"}


def export_rows(
    *,
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
    tz: str | None = None,
    digits: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one dict per reading of the user in ``[since, until)`` (None: open), oldest first.

    Times in *tz* (None: UTC), floats rounded to *digits* decimals (None: exact); see the module docstring.
    """
    zone = resolve_timezone(tz)
    columns = [MoodEvent.created_at, MoodEvent.source, *(getattr(MoodEvent, e) for e in EMOTIONS)]
    columns += [MoodEvent.valence, MoodEvent.arousal, MoodEvent.top_emotion, MoodEvent.corrected_emotion]
    columns += [func.coalesce(MoodEvent.corrected_emotion, MoodEvent.top_emotion), MoodEvent.model_version]
    query = repository.scope_mood_events(select(*columns), user_id=user_id, since=since, until=until, sources=sources)
    for row in session.execute(query.order_by(MoodEvent.created_at, MoodEvent.id)):
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        record["created_at"] = record["created_at"].astimezone(zone).isoformat()
        record["valence"], record["arousal"] = corrected_point(
            record["corrected_emotion"], record["valence"], record["arousal"]
        )
        if digits is not None:
            for name in (*EMOTIONS, "valence", "arousal"):
                record[name] = round(record[name], digits)
        yield record


def music_rows(*, session: Session, user_id: int, tz: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield one dict per track recommended to the user (columns :data:`MUSIC_COLUMNS`), oldest first."""
    zone = resolve_timezone(tz)
    emotion = func.coalesce(MoodEvent.corrected_emotion, MoodEvent.top_emotion)
    query = (
        select(Recommendation.created_at, emotion, Recommendation.strategy, Recommendation.rank)
        .add_columns(Track.title, Track.artists, Track.spotify_id, Feedback.value)
        .join(Track, Track.id == Recommendation.track_id)
        .outerjoin(MoodEvent, and_(MoodEvent.id == Recommendation.mood_event_id, MoodEvent.user_id == user_id))
        .outerjoin(Feedback, and_(Feedback.user_id == user_id, Feedback.track_id == Recommendation.track_id))
        .where(Recommendation.user_id == user_id)
        .order_by(Recommendation.created_at, Recommendation.id)
    )
    for row in session.execute(query):
        record = dict(zip(MUSIC_COLUMNS, row, strict=True))
        record["recommended_at"] = record["recommended_at"].astimezone(zone).isoformat(timespec="seconds")
        record["rating"] = _RATINGS.get(record["rating"] or 0)
        yield record


def export_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...] = EXPORT_COLUMNS) -> str:
    """Rows from :func:`export_rows` (or :func:`music_rows` with *columns*) as CSV text with a header line
    (None becomes an empty cell)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)  # str(float) is the shortest repr that reads back exactly
    return out.getvalue()


def export_json(rows: Iterable[dict[str, Any]]) -> str:
    """Rows from :func:`export_rows` as a JSON array of objects, one object per line."""
    return "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n"


def delete_history(*, session: Session, user_id: int) -> list[str]:
    """Delete the user's readings, recommendations and feedback (not committed); return image paths to remove."""
    paths = repository.list_image_paths(session=session, user_id=user_id)
    repository.delete_mood_history(session=session, user_id=user_id)
    return paths


def delete_account(*, session: Session, user_id: int) -> list[str]:
    """Delete the user and everything they own (not committed); return image paths to remove."""
    paths = repository.list_image_paths(session=session, user_id=user_id)
    repository.delete_user(session=session, user_id=user_id)
    return paths


def remove_image_files(paths: Iterable[str], *, base_dir: Path) -> int:
    """Remove stored images after the commit; return how many files went.

    Relative paths are taken relative to *base_dir* (the data directory). A path that resolves outside
    *base_dir* is refused (logged, not removed): a stored path never makes us delete other files.
    Missing files are fine; other failures are logged, never raised (the rows are already gone).
    """
    root = Path(base_dir).resolve()
    removed = 0
    for raw in paths:
        path = (root / raw).resolve()
        if not path.is_relative_to(root):
            logger.warning("refusing to remove image outside the data directory: %s", raw)
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as e:
            logger.warning("could not remove image %s: %s", path, e)
    return removed
