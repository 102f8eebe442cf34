"""The starter catalog packaged with the app, so the default install plays Spotify embeds with no download.

``starter_catalog.csv.gz`` holds a few thousand rows of the Spotify Tracks Dataset (Maharshi Pandya, BSD
licence; see ``NOTICE``) with their real Spotify ids and audio features, chosen by
``scripts/build_starter_catalog.py`` to cover the valence × energy plane and the dataset's genres evenly.
:func:`ensure_starter_catalog` imports it (source :data:`STARTER_SOURCE`); it is idempotent and cheap once
done, and ``awsome db upgrade`` and the app's first database session call it (see the README's Music section).

Old installs may still hold the 81 hand-written songs of earlier versions (source
:data:`LEGACY_STARTER_SOURCE`, no Spotify ids); the recommender ignores them once a real catalog exists.
:data:`MOOD_POINTS` gives tracks without audio features (Spotify playlist imports) a rough point by mood tag.
"""

from __future__ import annotations

import gzip
import io
import logging
import time
from importlib import resources
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.music.catalog import upsert_tracks
from awsome_core.music.layouts import parse_catalog_csv
from awsome_core.music.records import TrackRecord
from awsome_core.storage.models import Track

logger = logging.getLogger(__name__)

STARTER_SOURCE: Final = "starter_catalog"
LEGACY_STARTER_SOURCE: Final = "starter"
STARTER_FILE: Final = "starter_catalog.csv.gz"

#: Rough (valence, energy) for a mood tag, used where a track has no Spotify audio features.
MOOD_POINTS: Final[dict[str, tuple[float, float]]] = {
    "happy": (0.85, 0.70),
    "energetic": (0.65, 0.88),
    "calm": (0.50, 0.20),
    "sad": (0.20, 0.30),
}


def mood_tag_point(mood: str) -> tuple[float, float]:
    """Return the rough (valence, energy) of *mood*; ``ValueError`` lists the valid tags."""
    key = mood.strip().lower()
    if key not in MOOD_POINTS:
        raise ValueError(f"unknown mood {mood!r}; choose one of {', '.join(MOOD_POINTS)}")
    return MOOD_POINTS[key]


def load_starter_tracks() -> list[TrackRecord]:
    """The packaged starter catalog as records (every one with a Spotify id; source :data:`STARTER_SOURCE`)."""
    data = gzip.decompress(resources.files("awsome_core.music").joinpath(STARTER_FILE).read_bytes())
    return parse_catalog_csv(io.BytesIO(data), source=STARTER_SOURCE).records


def ensure_starter_catalog(*, session: Session) -> int:
    """Import the starter catalog unless every one of its tracks is there already; commit; return how many were new.

    Idempotent: tracks are matched on their Spotify id, so a track first imported from the full dataset is
    only filled in, never duplicated, and a second call changes nothing.
    """
    records = load_starter_tracks()
    present = session.execute(
        select(func.count()).select_from(Track).where(Track.spotify_id.in_([r.spotify_id for r in records]))
    ).scalar_one()
    if present >= len(records):
        return 0
    inserted, _, _ = upsert_tracks(session=session, records=records)
    logger.info("starter catalog: %d tracks added (%d packaged)", inserted, len(records))
    return inserted


STARTER_ATTEMPTS = 5


def install_starter_catalog(sessions: sessionmaker[Session]) -> int:
    """:func:`ensure_starter_catalog` in a session of its own: the start-up hook of ``awsome db upgrade`` and of
    the app's first session maker (``ui/runtime.py``). Returns how many tracks were new (0 once done)."""
    # NOTE: replicas (or `awsome db upgrade` in several containers) may start together: a concurrent importer's
    # rows make our insert fail on the unique Spotify id; the next attempt sees them and fills in the rest.
    for attempt in range(1, STARTER_ATTEMPTS + 1):
        with sessions() as session:
            try:
                return ensure_starter_catalog(session=session)
            except (IntegrityError, OperationalError):  # a duplicate id, or InnoDB's deadlock between importers
                session.rollback()
                if attempt == STARTER_ATTEMPTS:
                    raise
                logger.info("starter catalog: another process is importing it too; trying again")
                time.sleep(0.2 * attempt)
    return 0  # pragma: no cover - the loop returns or raises
