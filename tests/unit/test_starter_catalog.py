"""The packaged starter catalog: what it holds, that it never carries unlicensed rows, that the committed
script rebuilds it byte for byte, its idempotent import (also by ``awsome db upgrade``), ``awsome recommend``."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from awsome_core.music.catalog import catalog_stats, upsert_tracks
from awsome_core.music.cli import recommend_main
from awsome_core.music.embed import is_spotify_id
from awsome_core.music.index import clear_catalog_index_cache
from awsome_core.music.records import TrackRecord
from awsome_core.music.starter import STARTER_SOURCE, ensure_starter_catalog, load_starter_tracks
from awsome_core.storage.cli import main as db_main
from awsome_core.storage.models import Base, Recommendation, Track, User
from tests.conftest import PROJECT_ROOT, shared_data_path


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'starter.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()
    clear_catalog_index_cache()


def test_starter_catalog_covers_the_mood_plane_and_many_genres() -> None:
    records = load_starter_tracks()
    assert 1500 <= len(records) <= 3000
    assert len({r.spotify_id for r in records}) == len(records)
    assert all(is_spotify_id(r.spotify_id) and r.title and r.artists for r in records)
    with_features = [r for r in records if None not in (r.tempo, r.loudness, r.acousticness, r.danceability)]
    assert len(with_features) >= 0.95 * len(records)
    assert len({r.genre for r in records}) >= 100
    quadrants = Counter((float(r.valence or 0) >= 0.5, float(r.energy or 0) >= 0.5) for r in records)
    assert len(quadrants) == 4 and min(quadrants.values()) >= 150, quadrants


def test_starter_catalog_holds_no_track_of_the_unlicensed_files() -> None:
    ids = {r.spotify_id for r in load_starter_tracks()}
    for name, column in (("data_moods.csv", "id"), ("song_mood_data.csv", "track_id")):
        with shared_data_path("music", name).open(encoding="utf-8", newline="") as f:
            assert ids.isdisjoint(row[column] for row in csv.DictReader(f)), name


def test_the_committed_script_rebuilds_the_packaged_file_byte_for_byte() -> None:
    music_dir = shared_data_path("music")
    spec = importlib.util.spec_from_file_location(
        "build_starter_catalog", PROJECT_ROOT / "scripts/build_starter_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_starter_catalog"] = module
    spec.loader.exec_module(module)
    data, _, _ = module.build(music_dir)
    assert data == (PROJECT_ROOT / "awsome_core/music/starter_catalog.csv.gz").read_bytes()


def test_ensure_starter_catalog_is_idempotent_and_never_duplicates(session: Session) -> None:
    first = load_starter_tracks()[0]
    upsert_tracks(session=session, records=[TrackRecord(title=first.title, artists=first.artists,
                                                        spotify_id=first.spotify_id, valence=0.5, energy=0.5,
                                                        source="spotify_tracks_dataset")])  # fmt: skip
    added = ensure_starter_catalog(session=session)
    assert added == len(load_starter_tracks()) - 1
    assert ensure_starter_catalog(session=session) == 0
    stats = catalog_stats(session=session)
    assert stats.total == stats.with_spotify_id == added + 1
    assert stats.by_source == {STARTER_SOURCE: added, "spotify_tracks_dataset": 1}


def test_db_upgrade_imports_the_starter_catalog_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("AWSOME_DATABASE_URL", url)
    assert db_main(["upgrade"]) == 0 and db_main(["upgrade"]) == 0
    engine = create_engine(url)
    with Session(engine) as s:
        assert catalog_stats(session=s).with_spotify_id == len(load_starter_tracks())
    engine.dispose()
    monkeypatch.setenv("AWSOME_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("AWSOME_STARTER_CATALOG", "0")
    assert db_main(["upgrade"]) == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Track)) == 0
    engine.dispose()


def test_awsome_recommend_prints_ids_features_and_explanations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("AWSOME_DATABASE_URL", url)
    assert db_main(["upgrade"]) == 0
    capsys.readouterr()
    assert recommend_main(["--emotion", "happy", "--strategy", "match", "--count", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "match for happy:" and len(lines) == 1 + 2 * 5
    assert "valence" in lines[1] and "BPM" in lines[1] and lines[2].strip().endswith("matches your happy mood")
    engine = create_engine(url)
    with Session(engine) as s:
        s.add(User(username="ann", display_name="Ann", password_hash="x" * 60))
        s.commit()
    assert recommend_main(["--emotion", "sad", "--user", "ann", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["strategy"] == "lift" and len(payload["tracks"]) == 10
    assert all(is_spotify_id(t["spotify_id"]) and t["explanation"] and t["embed_url"] for t in payload["tracks"])
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Recommendation)) == 10  # recorded for the user only
    engine.dispose()
    with pytest.raises(SystemExit):
        recommend_main(["--emotion", "bored"])
