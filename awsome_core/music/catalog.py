"""The music catalog: track records, CSV import into the ``tracks`` table, and catalog statistics.

Importing is idempotent: rows are matched on ``spotify_id``; a new id is inserted; a known one is
merged and counted as updated only if that changes something, else as unchanged. Merge rule
(``prefer="source"``): a file's values replace those of rows *it* created (a newer copy of the same
dataset), while rows first imported from another file only get their empty fields filled -- so
importing files in any order, and any file again, converges instead of flip-flopping. Empty values
never overwrite stored ones, and ``source`` keeps the file a track first came from.

Writes use SQLAlchemy Core in batches (one ``SELECT ... IN`` plus one executemany ``INSERT``/``UPDATE``
per batch), the same on SQLite and MySQL; each batch is committed.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from awsome_core.music.layouts import parse_catalog_csv
from awsome_core.music.records import RECORD_FIELDS, CatalogStats, ImportReport, Progress, TrackRecord
from awsome_core.storage.models import Track, utcnow

__all__ = ["CatalogStats", "ImportReport", "Progress", "TrackRecord"]  # re-exported for callers of this module

logger = logging.getLogger(__name__)

PLAYLIST_SOURCE_PREFIX: Final = "playlist:"  # source of tracks imported from a Spotify playlist
SMALL_CATALOG_TRACKS: Final = 50_000  # below this the app offers to download the full ~114k catalog
BATCH_SIZE: Final = 2000  # rows per SELECT ... IN / executemany / commit (SQLite allows 32,766 parameters)
_TABLE: Final = cast(Table, Track.__table__)
_generation = 0  # bumped on every write in this process; part of the recommender's cache key
_FIELDS: Final = RECORD_FIELDS
_UPDATABLE: Final = tuple(name for name in _FIELDS if name not in ("spotify_id", "source"))
#: Sources that are not the public catalog: the packaged starter catalog and the hand-written songs of old installs.
STARTER_SOURCES: Final = ("starter_catalog", "starter")


def import_catalog_file(
    *, session: Session, path: Path | str | IO[bytes], source: str | None = None, progress: Progress | None = None
) -> ImportReport:
    """Import the CSV at *path* (layout auto-detected, see :mod:`awsome_core.music.layouts`).

    *path* may also be a binary stream (e.g. a Streamlit upload); it is closed afterwards.

    :param source: stored in ``tracks.source`` for new rows; defaults to the layout name.
    :param progress: called as ``progress(done, total)`` in rows while writing.
    :raises ValueError: the file's columns match no known layout.
    """
    parsed = parse_catalog_csv(Path(path) if isinstance(path, str) else path, source=source)
    report = ImportReport(
        path=str(path) if isinstance(path, str | Path) else str(getattr(path, "name", "upload.csv")),
        layout=parsed.layout,
        source=source or parsed.layout,
        rows=parsed.rows,
        skipped=dict(parsed.skipped),
        notes=dict(parsed.notes),
    )
    counts = upsert_tracks(session=session, records=parsed.records, progress=progress)
    report.inserted, report.updated, report.unchanged = counts
    logger.info("catalog import %s", report.summary())
    return report


def upsert_tracks(
    *,
    session: Session,
    records: Sequence[TrackRecord],
    prefer: Literal["source", "new", "old"] = "source",
    progress: Progress | None = None,
) -> tuple[int, int, int]:
    """Insert or merge *records* (all with a ``spotify_id``) on ``spotify_id``; commit each batch.

    :param prefer: which non-empty value wins when both the row and the record have one: ``"source"``
        (the record's if the row has the record's ``source``, else the row's), ``"new"`` or ``"old"``.
    :return: (inserted, updated, unchanged).
    """
    if any(not r.spotify_id for r in records):
        raise ValueError("upsert_tracks needs a spotify_id on every record; starter tracks use starter.py")
    totals = [0, 0, 0]
    for start in range(0, len(records), BATCH_SIZE):
        batch = records[start : start + BATCH_SIZE]
        for i, n in enumerate(_upsert_batch(session, batch, prefer)):
            totals[i] += n
        session.commit()
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(records)), len(records))
    if totals[0] or totals[1]:
        mark_catalog_changed()
    return totals[0], totals[1], totals[2]


def _upsert_batch(session: Session, batch: Sequence[TrackRecord], prefer: str) -> tuple[int, int, int]:
    """Merge one batch (see the module doc); return (inserted, updated, unchanged)."""
    columns = [_TABLE.c.spotify_id, _TABLE.c.source, *(_TABLE.c[name] for name in _UPDATABLE)]
    ids = [r.spotify_id for r in batch]
    rows = session.execute(select(*columns).where(_TABLE.c.spotify_id.in_(ids))).mappings()
    existing = {row["spotify_id"]: row for row in rows}
    new_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for record in batch:
        old = existing.get(record.spotify_id)
        if old is None:
            new_rows.append({name: getattr(record, name) for name in _FIELDS})  # asdict() deep-copies: 5x slower
            continue
        newer = prefer == "new" or (prefer == "source" and old["source"] == record.source)
        merged = {name: _merge(old[name], getattr(record, name), newer) for name in _UPDATABLE}
        if any(not _same(old[name], merged[name]) for name in _UPDATABLE):
            changes.append({"b_spotify_id": record.spotify_id, **merged})
    if new_rows:
        session.execute(insert(_TABLE), new_rows)
    if changes:
        statement = (
            update(_TABLE)
            .where(_TABLE.c.spotify_id == bindparam("b_spotify_id"))
            .values({**{name: bindparam(name) for name in _UPDATABLE}, "updated_at": utcnow()})
        )  # updated_at: what another replica's catalog index sees of an update in place (index.py)
        session.execute(statement, changes)
    return len(new_rows), len(changes), len(batch) - len(new_rows) - len(changes)


def _missing(value: Any) -> bool:
    return value is None or value == ""


def _merge(old: Any, new: Any, newer: bool) -> Any:
    if _missing(new):
        return old
    if _missing(old):
        return new
    return new if newer else old


def _same(a: Any, b: Any) -> bool:
    """Equal, allowing for MySQL's single-precision FLOAT round trip."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return bool(a == b)


def mark_catalog_changed() -> None:
    """Tell in-process caches (the recommender's catalog index) that tracks were written."""
    global _generation
    _generation += 1


def catalog_generation() -> int:
    return _generation


def count_tracks(*, session: Session, exclude_sources: Iterable[str] = ()) -> int:
    """Tracks in the catalog, leaving out those whose ``source`` is in *exclude_sources*."""
    query = select(func.count()).select_from(_TABLE)
    excluded = list(exclude_sources)
    if excluded:
        query = query.where(_TABLE.c.source.not_in(excluded))
    return int(session.execute(query).scalar_one())


def tracks_by_source(*, session: Session) -> dict[str, int]:
    """The catalog's track count per ``source``, in one statement (a scan of the table: the catalog index
    keeps the result, ``CatalogIndex.tracks_by_source``, so that a recommendation does not pay it)."""
    rows = session.execute(select(_TABLE.c.source, func.count()).group_by(_TABLE.c.source))
    return {str(source): int(n) for source, n in rows}  # source is NOT NULL


def size_of(by_source: Mapping[str, int], threshold: int = SMALL_CATALOG_TRACKS) -> tuple[int, bool]:
    """``(tracks in the catalog, catalog_is_small)`` from its count per source (:func:`tracks_by_source`)."""
    others = sum(n for source, n in by_source.items() if source not in STARTER_SOURCES)
    return sum(by_source.values()), others < threshold


def catalog_is_small(*, session: Session, threshold: int = SMALL_CATALOG_TRACKS) -> bool:
    """True when the catalog (starter catalogs aside) has fewer than *threshold* tracks: offer the download."""
    return count_tracks(session=session, exclude_sources=STARTER_SOURCES) < threshold


def catalog_stats(*, session: Session) -> CatalogStats:
    """Counts of the catalog: total, playable (with a Spotify id), and per source."""
    by_source = Counter(
        {str(s): int(n) for s, n in session.execute(select(_TABLE.c.source, func.count()).group_by(_TABLE.c.source))}
    )
    with_id = session.execute(select(func.count()).where(_TABLE.c.spotify_id.is_not(None))).scalar_one()
    return CatalogStats(total=sum(by_source.values()), with_spotify_id=int(with_id), by_source=dict(by_source))
