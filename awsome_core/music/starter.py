"""The starter catalog: ~80 well-known songs, so a fresh machine with no network still recommends music.

``starter_tracks.csv`` (``title, artist, mood, valence, energy``) was written by hand for this project.
It holds **no Spotify ids** (we never invent them): these tracks render as an "Open in Spotify" search
link instead of an embed. Their valence/energy are not Spotify's audio features but a rough point
assigned by mood tag (:data:`MOOD_POINTS`, placed near the per-mood means of the labelled datasets in
``../shared/data/music``); the recommender says so in its explanation and stops using them once a real
catalog is imported.
"""

from __future__ import annotations

import csv
import io
import logging
from importlib import resources
from typing import Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from awsome_core.music.catalog import TrackRecord, mark_catalog_changed
from awsome_core.storage.models import Track

logger = logging.getLogger(__name__)

STARTER_SOURCE: Final = "starter"

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
    """Read the packaged ``starter_tracks.csv`` into records (``spotify_id`` None, source ``starter``)."""
    text = resources.files("awsome_core.music").joinpath("starter_tracks.csv").read_text(encoding="utf-8")
    records = []
    for row in csv.DictReader(io.StringIO(text)):
        mood = row["mood"].strip().lower()
        mood_tag_point(mood)  # validates the tag
        records.append(
            TrackRecord(
                title=row["title"].strip(),
                artists=row["artist"].strip(),
                mood_tag=mood,
                valence=float(row["valence"]),
                energy=float(row["energy"]),
                source=STARTER_SOURCE,
            )
        )
    return records


def ensure_starter_catalog(*, session: Session) -> int:
    """Insert the starter tracks that are not in the ``tracks`` table yet; commit; return how many."""
    table = cast(Table, Track.__table__)
    present = {
        (title, artists)
        for title, artists in session.execute(
            select(table.c.title, table.c.artists).where(table.c.source == STARTER_SOURCE)
        )
    }
    missing = [r for r in load_starter_tracks() if (r.title, r.artists) not in present]
    if missing:
        session.execute(insert(table), [_row(r) for r in missing])
        session.commit()
        mark_catalog_changed()
        logger.info("added %d starter tracks to the catalog", len(missing))
    return len(missing)


def _row(record: TrackRecord) -> dict[str, object]:
    return {
        "spotify_id": None,
        "title": record.title,
        "artists": record.artists,
        "mood_tag": record.mood_tag,
        "valence": record.valence,
        "energy": record.energy,
        "source": record.source,
    }
