"""A user's data leaving the app: export as CSV or JSON, and deletion of history or the whole account.

Export has one row per reading, oldest first, with the columns :data:`EXPORT_COLUMNS`: ``created_at``
as ISO 8601 UTC (``2026-03-01T08:15:00.123456+00:00``), the source, all 7 probabilities (FER2013
order), valence, arousal, the model's top emotion, the user's correction (empty / null if none) and
the model version. Floats are written in Python's shortest round-trip form: they read back exactly
as the database holds them (MySQL ``FLOAT`` columns keep single precision, about 7 digits).

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

from sqlalchemy import select
from sqlalchemy.orm import Session

from awsome_core.emotions import EMOTIONS
from awsome_core.storage import repository
from awsome_core.storage.models import MoodEvent

logger = logging.getLogger(__name__)

EXPORT_COLUMNS: Final = (
    "created_at",
    "source",
    *EMOTIONS,
    "valence",
    "arousal",
    "top_emotion",
    "corrected_emotion",
    "model_version",
)


def export_rows(
    *,
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one dict per reading of the user in ``[since, until)`` (None: open), oldest first."""
    columns = [MoodEvent.created_at, MoodEvent.source, *(getattr(MoodEvent, e) for e in EMOTIONS)]
    columns += [MoodEvent.valence, MoodEvent.arousal, MoodEvent.top_emotion, MoodEvent.corrected_emotion]
    query = repository.scope_mood_events(
        select(*columns, MoodEvent.model_version), user_id=user_id, since=since, until=until, sources=sources
    )
    for row in session.execute(query.order_by(MoodEvent.created_at, MoodEvent.id)):
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        record["created_at"] = record["created_at"].isoformat()
        yield record


def export_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Rows from :func:`export_rows` as CSV text with a header line (None becomes an empty cell)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
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
