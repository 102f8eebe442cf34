"""size_of(tracks_by_source): the catalog's total and "small" in one statement, the same as the two counts it
replaces; the catalog index keeps the same figures for recommendations."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from awsome_core.music.catalog import (
    STARTER_SOURCES,
    catalog_generation,
    catalog_is_small,
    count_tracks,
    size_of,
    tracks_by_source,
    upsert_tracks,
)
from awsome_core.music.index import clear_catalog_index_cache, load_catalog_index
from awsome_core.music.records import TrackRecord
from awsome_core.storage.db import make_engine, upgrade_database
from awsome_core.storage.models import Base, Track


def test_catalog_size_matches_count_tracks_and_catalog_is_small(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        assert size_of(tracks_by_source(session=session)) == (0, True)
        sources = [STARTER_SOURCES[0]] * 3 + [STARTER_SOURCES[1]] * 2 + ["spotify_tracks_dataset"] * 4
        session.add_all(Track(title=f"T{i}", artists=f"A{i}", source=s) for i, s in enumerate(sources))
        session.flush()
        for threshold in (3, 4, 5, 10):
            total, small = size_of(tracks_by_source(session=session), threshold)
            assert total == count_tracks(session=session) == 9
            assert small == catalog_is_small(session=session, threshold=threshold) == (4 < threshold)
    engine.dispose()


def test_the_catalog_index_sizes_the_catalog_as_one_count_per_source_does(tmp_path: Path) -> None:
    """A recommendation sizes the catalog from the index's count per source (kept when the index is built)
    instead of a scan of the table per list: the same figures, and new ones once the catalog changes."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    Base.metadata.create_all(engine)
    clear_catalog_index_cache()
    with Session(engine) as session:
        sources = [STARTER_SOURCES[0]] * 3 + ["spotify_tracks_dataset"] * 4
        session.add_all(
            Track(title=f"T{i}", artists=f"A{i}", source=s, valence=0.5 if i % 2 else None, energy=0.5)
            for i, s in enumerate(sources)
        )
        session.commit()
        index = load_catalog_index(session=session)
        assert len(index) == 3  # rankable: valence and energy known ...
        assert (
            size_of(index.tracks_by_source, 5) == size_of(tracks_by_source(session=session), 5) == (7, True)
        )  # ... all
        session.add(Track(title="New", artists="B", source="spotify_tracks_dataset", valence=0.1, energy=0.2))
        session.commit()
        again = load_catalog_index(session=session)
        assert again is not index
        assert size_of(again.tracks_by_source, 5) == size_of(tracks_by_source(session=session), 5) == (8, False)
    clear_catalog_index_cache()
    engine.dispose()


def test_the_index_sees_another_replicas_update_in_place_and_is_kept_while_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another replica's import that only updates tracks leaves max(id) as it was; its updated_at shows it.
    Without a change the index is kept past the old 5-minute TTL (a rebuild costs ~1.5 s at 114k tracks)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    clear_catalog_index_cache()
    record = TrackRecord(title="T", artists="A", spotify_id="0" * 22, valence=0.2, energy=0.5, source="spotify")
    with Session(engine) as session:
        upsert_tracks(session=session, records=[record])
        first = load_catalog_index(session=session)
        clock = time.monotonic()
        monkeypatch.setattr("awsome_core.music.index.time.monotonic", lambda: clock + 600.0)
        assert load_catalog_index(session=session) is first  # nothing changed: no rebuild
        # another replica updates the track in place: its write counter is not ours, so ours stays as it was
        ours = catalog_generation()
        monkeypatch.setattr("awsome_core.music.index.catalog_generation", lambda: ours)
        monkeypatch.setattr("awsome_core.music.catalog.mark_catalog_changed", lambda: None)
        _, updated, _ = upsert_tracks(session=session, records=[dataclasses.replace(record, valence=0.9)], prefer="new")
        assert updated == 1
        again = load_catalog_index(session=session)
        assert again is not first and again.valence.tolist() == [0.9]
    clear_catalog_index_cache()
    engine.dispose()
