"""The music catalog end to end: imports of the shared CSVs (SQLite and MySQL), the acceptance figures
of the recommender on that real data, the resumable verified download, and ``awsome catalog``."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import mean
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from awsome_core.errors import MusicProviderError
from awsome_core.music.catalog import catalog_is_small, catalog_stats, import_catalog_file
from awsome_core.music.cli import main as catalog_main
from awsome_core.music.download import default_catalog_path, download_catalog, git_blob_id, install_public_catalog
from awsome_core.music.index import clear_catalog_index_cache
from awsome_core.music.layouts import NOTE_NO_METADATA, SKIP_BAD_FEATURES, SKIP_BAD_ID, SKIP_DUPLICATE
from awsome_core.music.recommender import recommend_tracks
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import Base, Track
from tests.conftest import shared_data_path

#: file → (rows, unique tracks, skipped by reason, notes)
EXPECTED = {
    "spotify_tracks_114k_sample15k.csv": (15_000, 14_385, {SKIP_DUPLICATE: 615}, {NOTE_NO_METADATA: 1}),
    "data_moods.csv": (686, 686, {}, {}),
    "song_mood_data.csv": (4_179, 2_911, {SKIP_DUPLICATE: 1_268}, {NOTE_NO_METADATA: 1}),
}
TOTAL_AFTER_CROSS_FILE_DEDUP = 17_822


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return engine


def _snapshot(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(select(Track.__table__).order_by(Track.id))]


@pytest.mark.shared_data
def test_import_shared_csvs_counts_and_reimport_changes_nothing(db_url: str) -> None:
    engine = _engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            for name, (rows, tracks, skipped, notes) in EXPECTED.items():
                report = import_catalog_file(session=session, path=shared_data_path("music", name))
                print(report.summary())
                assert (report.rows, report.tracks, report.skipped, report.notes) == (rows, tracks, skipped, notes)
                assert report.rows == report.tracks + sum(report.skipped.values())
            assert catalog_stats(session=session).total == TOTAL_AFTER_CROSS_FILE_DEDUP
            before = _snapshot(session)
            for name, (_, tracks, _, _) in EXPECTED.items():
                again = import_catalog_file(session=session, path=shared_data_path("music", name))
                assert (again.inserted, again.updated, again.unchanged) == (0, 0, tracks)
            assert _snapshot(session) == before
            picks = recommend_tracks(session=session, user_id=None, probabilities={"happy": 1.0}, strategy="match")
            assert len(picks) == 10 and mean(p.track.valence for p in picks) > 0.7
    finally:
        engine.dispose()
        clear_catalog_index_cache()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    engine = _engine(f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'awsome.db'}")
    with make_sessionmaker(engine)() as session:
        for name in EXPECTED:
            import_catalog_file(session=session, path=shared_data_path("music", name))
        yield session
    engine.dispose()
    clear_catalog_index_cache()


def _recommend(session: Session, emotion: str, strategy: str, seed: int = 0) -> list[Any]:
    return recommend_tracks(session=session, user_id=None, probabilities={emotion: 1.0}, strategy=strategy, seed=seed)


@pytest.mark.shared_data
def test_acceptance_match_valence_for_happy_and_sad(imported: Session) -> None:
    happy = mean(r.track.valence for r in _recommend(imported, "happy", "match"))
    sad = mean(r.track.valence for r in _recommend(imported, "sad", "match"))
    print(f"\nmatch top-10 mean valence: happy {happy:.3f} (> 0.7), sad {sad:.3f} (< 0.35)")
    assert happy > 0.7
    assert sad < 0.35


@pytest.mark.shared_data
@pytest.mark.parametrize("seed", range(5))
def test_acceptance_lift_from_sad_raises_valence_along_the_list(imported: Session, seed: int) -> None:
    picks = _recommend(imported, "sad", "lift", seed)
    valences = [r.track.valence for r in picks]
    print(f"\nlift from sad (seed {seed}) valence: {' '.join(f'{v:.2f}' for v in valences)}")
    assert len(picks) == 10
    assert all(b >= a - 0.05 for a, b in zip(valences, valences[1:], strict=False))  # brighter step by step
    assert valences[-1] - valences[0] > 0.5


@pytest.mark.shared_data
@pytest.mark.parametrize("emotion", ["neutral", "sad", "happy", "angry", "surprise"])
def test_acceptance_calm_picks_have_low_energy(imported: Session, emotion: str) -> None:
    energies = [r.track.energy for r in _recommend(imported, emotion, "calm")]
    print(f"\ncalm from {emotion}: energy {' '.join(f'{e:.2f}' for e in energies)}")
    assert len(energies) == 10 and max(energies) < 0.4


@pytest.mark.shared_data
def test_energize_picks_have_high_energy(imported: Session) -> None:
    assert min(r.track.energy for r in _recommend(imported, "sad", "energize")) > 0.7


def test_import_counts_bad_rows_by_reason(tmp_path: Path) -> None:
    good = "4uLU6hMCjMI75M1A2tKUQC"
    csv_path = tmp_path / "tracks.csv"
    csv_path.write_text(
        "id,name,artists,valence,energy,tempo\n"
        f"{good},Never Gonna Give You Up,\"['Rick Astley', 'Guest']\",0.9,0.9,113\n"
        f"{good},Duplicate,Someone,0.5,0.5,100\n"
        "not-an-id,Bad id,Someone,0.5,0.5,100\n"
        "4jEgIGTiWCziKA6ExSttMX,No valence,Someone,,0.5,100\n"
        "1iSyH8ek7Eqc8UWOReZaqg,Energy too high,Someone,0.5,1.5,100\n"
        "0laEXE6mKdErCC67yhsHaO,Bad tempo kept,Someone,0.2,0.4,fast\n",
        encoding="utf-8",
    )
    engine = _engine(f"sqlite:///{tmp_path / 'a.db'}")
    with make_sessionmaker(engine)() as session:
        report = import_catalog_file(session=session, path=csv_path, source="mine")
        assert report.layout == "generic" and (report.rows, report.inserted) == (6, 2)
        assert report.skipped == {SKIP_DUPLICATE: 1, SKIP_BAD_ID: 1, SKIP_BAD_FEATURES: 2}
        rick = session.scalars(select(Track).where(Track.spotify_id == good)).one()
        assert (rick.artists, rick.source, rick.tempo) == ("Rick Astley;Guest", "mine", 113.0)
    engine.dispose()


def test_import_accepts_an_uploaded_stream(tmp_path: Path) -> None:
    upload = io.BytesIO("\ufeffid,name,artists,valence,energy\n4uLU6hMCjMI75M1A2tKUQC,Song,Me,0.5,0.5\n".encode())
    upload.name = "upload.csv"
    engine = _engine(f"sqlite:///{tmp_path / 'a.db'}")
    with make_sessionmaker(engine)() as session:
        report = import_catalog_file(session=session, path=upload, source="admin-upload")
        assert (report.path, report.inserted, report.source) == ("upload.csv", 1, "admin-upload")
    engine.dispose()


def test_import_rejects_an_unknown_layout(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    engine = _engine(f"sqlite:///{tmp_path / 'a.db'}")
    with make_sessionmaker(engine)() as session, pytest.raises(ValueError, match="unrecognised CSV layout"):
        import_catalog_file(session=session, path=path)
    engine.dispose()


# ----------------------------------------------------------------------------- download


class FileServer(BaseHTTPRequestHandler):
    """Serves ``content`` with Range support; ``honour_range`` / ``cut_after`` simulate bad servers."""

    content: ClassVar[bytes] = b""
    honour_range: ClassVar[bool] = True
    cut_after: ClassVar[int | None] = None
    ranges: ClassVar[list[str | None]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        start = int(header.split("=")[1].rstrip("-")) if header and self.honour_range else 0
        if start >= len(self.content) and header:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(self.content)}")
            self.end_headers()
            return
        body = self.content[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(self.content) - 1}/{len(self.content)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: self.cut_after] if self.cut_after is not None else body)


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    header = "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,valence,energy,track_genre\n"
    rows = [
        f"{i:022d},Artist {i},Album,Song {i},50,200000,False,{i % 10 / 10},{i % 7 / 7:.3f},pop\n" for i in range(4000)
    ]
    FileServer.content = (header + "".join(rows)).encode()
    FileServer.honour_range, FileServer.cut_after, FileServer.ranges = True, None, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FileServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dataset.csv"
    server.shutdown()
    server.server_close()


def _blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def test_git_blob_id_matches_git(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n" * 1000)
    assert git_blob_id(path) == _blob_id(path.read_bytes())
    if shutil.which("git"):
        assert git_blob_id(path) == subprocess.run(["git", "hash-object", str(path)], capture_output=True,
                                                   text=True, check=True).stdout.strip()  # fmt: skip


def test_download_fetches_and_verifies(file_server: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "catalog" / "tracks.csv"
    path = download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content),
                            progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert path == dest and dest.read_bytes() == FileServer.content
    assert seen[0] == (0, len(FileServer.content)) and seen[-1] == (len(FileServer.content),) * 2
    assert not dest.with_name("tracks.csv.part").exists()
    download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content))
    assert len(FileServer.ranges) == 1  # already complete: nothing fetched again


def test_download_resumes_a_partial_file(file_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "tracks.csv"
    dest.with_name("tracks.csv.part").write_bytes(FileServer.content[:1000])
    seen: list[int] = []
    download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content),
                     progress=lambda done, total: seen.append(done))  # fmt: skip
    assert FileServer.ranges == ["bytes=1000-"]
    assert seen[0] == 1000 and dest.read_bytes() == FileServer.content


def test_download_starts_over_when_the_server_ignores_range(file_server: str, tmp_path: Path) -> None:
    FileServer.honour_range = False
    dest = tmp_path / "tracks.csv"
    dest.with_name("tracks.csv.part").write_bytes(b"garbage" * 100)
    download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content))
    assert dest.read_bytes() == FileServer.content


def test_download_interrupted_keeps_the_part_for_a_resume(file_server: str, tmp_path: Path) -> None:
    FileServer.cut_after = 150_000
    dest = tmp_path / "tracks.csv"
    with pytest.raises(MusicProviderError, match="interrupted.*run it again to resume"):
        download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content), timeout=2)
    kept = dest.with_name("tracks.csv.part").stat().st_size
    assert 0 < kept <= 150_000 < len(FileServer.content) and not dest.exists()
    FileServer.cut_after = None
    download_catalog(url=file_server, dest=dest, expected_blob_id=_blob_id(FileServer.content))
    assert FileServer.ranges[-1] == f"bytes={kept}-" and dest.read_bytes() == FileServer.content


def test_download_integrity_failure_removes_the_file(file_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "tracks.csv"
    with pytest.raises(MusicProviderError, match="integrity check"):
        download_catalog(url=file_server, dest=dest, expected_blob_id="0" * 40)
    assert list(tmp_path.iterdir()) == []


def test_download_offline_says_so(tmp_path: Path) -> None:
    with pytest.raises(MusicProviderError, match="offline.*keeps working"):
        download_catalog(url="http://127.0.0.1:9/dataset.csv", dest=tmp_path / "t.csv", timeout=2)


def test_install_public_catalog_downloads_then_imports(file_server: str, tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'a.db'}")
    phases: set[str] = set()
    with make_sessionmaker(engine)() as session:
        assert catalog_is_small(session=session)
        report = install_public_catalog(session=session, url=file_server, data_dir=tmp_path,
                                        expected_blob_id=_blob_id(FileServer.content),
                                        progress=lambda phase, done, total: phases.add(phase))  # fmt: skip
        assert (report.inserted, report.source) == (4000, "spotify_tracks_dataset")
        assert catalog_is_small(session=session)  # 4,000 tracks is still small
    assert phases == {"download", "import"}
    assert default_catalog_path(tmp_path).exists()
    engine.dispose()


def test_cli_imports_downloads_and_reports(file_server: str, tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    _engine(url).dispose()
    monkeypatch.setenv("AWSOME_DATABASE_URL", url)
    monkeypatch.setenv("AWSOME_DATA_DIR", str(tmp_path / "data"))
    assert catalog_main(["download", "--url", file_server, "--blob-id", _blob_id(FileServer.content)]) == 0
    out, err = capsys.readouterr()
    assert "4000 tracks (4000 new" in out and "download [" in err and "100%" in err
    assert catalog_main(["starter"]) == 0 and catalog_main(["stats"]) == 0
    out, _ = capsys.readouterr()
    assert "spotify_tracks_dataset: 4,000" in out and "starter_catalog: " in out
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n", encoding="utf-8")
    assert catalog_main(["import", str(bad)]) == 1
    assert "unrecognised CSV layout" in capsys.readouterr().err
