"""The music parts of the pages under AppTest: the About page's catalog counts stay true after an import."""

from __future__ import annotations

from sqlalchemy.orm import Session

from awsome_core.music.catalog import upsert_tracks
from awsome_core.music.records import TrackRecord
from awsome_core.music.starter import load_starter_tracks
from awsome_core.storage.db import make_engine
from tests.app.test_app import _signed_in


def test_about_counts_the_starter_catalog_and_any_later_import(app_env: str) -> None:
    at = _signed_in(app_env)  # the app's first session maker imports the starter catalog
    at.switch_page("app_pages/about.py").run()
    assert not at.exception
    starter = len(load_starter_tracks())
    line = next(m.value for m in at.markdown if "playable in the Spotify player" in m.value)
    assert line.startswith(f"**{starter:,} tracks**, {starter:,} playable") and "starter catalog" in line
    engine = make_engine(app_env)
    with Session(engine) as session:  # an import from elsewhere (CLI, another replica)
        extra = [TrackRecord(f"New {i}", f"Band {i}", f"{i:022d}", valence=0.5, energy=0.5) for i in range(5)]
        upsert_tracks(session=session, records=extra)
    engine.dispose()
    at.run()
    line = next(m.value for m in at.markdown if "playable in the Spotify player" in m.value)
    assert line.startswith(f"**{starter + 5:,} tracks**, {starter + 5:,} playable")
