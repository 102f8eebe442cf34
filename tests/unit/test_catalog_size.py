"""catalog_size: the catalog's total and "small" in one statement, the same as the two counts it replaces."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from awsome_core.music.catalog import STARTER_SOURCES, catalog_is_small, catalog_size, count_tracks
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
