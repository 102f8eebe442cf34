"""Value types shared by the catalog modules (no imports from the rest of ``music``, so nothing cycles).

``catalog`` (import, stats), ``layouts`` (CSV parsing), ``starter``, ``spotify`` and the recommender all
speak :class:`TrackRecord`; :class:`CatalogStats` is what the pages and the CLI show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

#: ``progress(done, total)``: rows written so far and rows to write.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """One track as read from a file or the Spotify API, before it has a database id.

    ``artists`` is ";"-separated. ``spotify_id`` is None only for the hand-written songs of old installs.
    Audio features are Spotify's (0..1 except ``loudness`` in dB and ``tempo`` in BPM).
    """

    title: str
    artists: str
    spotify_id: str | None = None
    album: str | None = None
    genre: str | None = None
    mood_tag: str | None = None
    popularity: int | None = None
    duration_ms: int | None = None
    explicit: bool | None = None
    valence: float | None = None
    energy: float | None = None
    danceability: float | None = None
    acousticness: float | None = None
    instrumentalness: float | None = None
    speechiness: float | None = None
    liveness: float | None = None
    loudness: float | None = None
    tempo: float | None = None
    source: str = "import"


RECORD_FIELDS: Final = tuple(f.name for f in fields(TrackRecord))


@dataclass
class ImportReport:
    """What an import did. ``tracks`` = inserted + updated + unchanged (unique ids in the file)."""

    path: str
    layout: str
    source: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def tracks(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        """One line for a user: ``<file>: N tracks (n new, n updated, n unchanged) from N rows [layout]; ...``."""
        skipped = "; ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        line = (
            f"{Path(self.path).name}: {self.tracks} tracks ({self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged) from {self.rows} rows [{self.layout}]; skipped: {skipped}"
        )
        notes = "; ".join(f"{n} {what}" for what, n in sorted(self.notes.items()))
        return f"{line}; {notes}" if notes else line


@dataclass(frozen=True)
class CatalogStats:
    """Catalog counts: every track, those playable in the Spotify player (with an id), and per source."""

    total: int
    with_spotify_id: int
    by_source: dict[str, int]
