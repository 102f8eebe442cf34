"""catalog_size: the catalog's total and "small" in one statement, the same as the two counts it replaces; the
catalog index keeps the same figures for recommendations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from awsome_core.music.catalog import STARTER_SOURCES, catalog_is_small, catalog_size, count_tracks, size_of
from awsome_core.music.index import clear_catalog_index_cache, load_catalog_index
from awsome_core.storage.db import make_engine
from awsome_core.storage.models import Base, Track


def test_catalog_size_matches_count_tracks_and_catalog_is_small(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        assert catalog_size(session=session) == (0, True)
        sources = [STARTER_SOURCES[0]] * 3 + [STARTER_SOURCES[1]] * 2 + ["spotify_tracks_dataset"] * 4
        session.add_all(Track(title=f"T{i}", artists=f"A{i}", source=s) for i, s in enumerate(sources))
        session.flush()
        for threshold in (3, 4, 5, 10):
            total, small = catalog_size(session=session, threshold=threshold)
            assert total == count_tracks(session=session) == 9
            assert small == catalog_is_small(session=session, threshold=threshold) == (4 < threshold)
    engine.dispose()


def test_the_catalog_index_sizes_the_catalog_as_catalog_size_does(tmp_path: Path) -> None:
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
        assert size_of(index.tracks_by_source, 5) == catalog_size(session=session, threshold=5) == (7, True)  # ... all
        session.add(Track(title="New", artists="B", source="spotify_tracks_dataset", valence=0.1, energy=0.2))
        session.commit()
        again = load_catalog_index(session=session)
        assert again is not index
        assert size_of(again.tracks_by_source, 5) == catalog_size(session=session, threshold=5) == (8, False)
    clear_catalog_index_cache()
    engine.dispose()
