"""Spotify client against a local fake Web API: every failure returns fast with the local catalog."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from spotipy.cache_handler import MemoryCacheHandler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from awsome_core.config import Settings
from awsome_core.music.catalog import TrackRecord, upsert_tracks
from awsome_core.music.spotify import SpotifyClient, import_playlist, parse_playlist_id, search_tracks
from awsome_core.music.starter import MOOD_POINTS
from awsome_core.storage.models import Base, Track

PLAYLIST_ID = "37i9dQZF1DXdPec7aLTmlC"
TRACK_IDS = ["4vxeeLNZHjOPGMwZA0fHQi", "2IERCI65gkNfWDf71WDdVy", "4TNbuAW9vMe1iz5hbimlY7"]


def _track(i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "id": TRACK_IDS[i],
        "name": f"Song {i}",
        "artists": [{"name": f"Singer {i}"}, {"name": "Guest"}],
        "album": {"name": f"Album {i}"},
        "duration_ms": 200_000 + i,
        "explicit": False,
    }


class FakeSpotify(BaseHTTPRequestHandler):
    """Token endpoint + search + playlists. ``mode`` picks how /v1/search and playlists answer."""

    mode: ClassVar[str] = "ok"
    requests: ClassVar[list[str]] = []
    release: ClassVar[threading.Event] = threading.Event()

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "bad-credentials":
            self._send(400, {"error": "invalid_client", "error_description": "Invalid client"})
        else:
            self._send(200, {"access_token": "fake-token", "token_type": "Bearer", "expires_in": 3600})

    def do_GET(self) -> None:  # noqa: N802
        type(self).requests.append(self.path)
        mode = self.mode
        if mode == "429-once":
            mode = "429" if sum("/search" in p for p in self.requests) == 1 else "ok"
        if mode == "hang":
            self.release.wait(10)
            return
        if mode in ("401", "403"):
            self._send(int(mode), {"error": {"status": int(mode), "message": "nope"}})
        elif mode == "429":
            self._send(429, {"error": {"status": 429, "message": "slow down"}}, {"Retry-After": "1"})
        elif mode == "429-long":
            self._send(429, {"error": {"status": 429, "message": "slow down"}}, {"Retry-After": "120"})
        elif self.path.startswith("/v1/search"):
            self._send(200, {"tracks": {"items": [_track(0), _track(1)], "next": None}})
        elif "/items" in self.path and "offset=50" in self.path:
            self._send(200, {"items": [{"track": _track(2)}, {"item": None}], "next": None})
        elif "/items" in self.path:
            page2 = f"http://127.0.0.1:{self.server.server_address[1]}/v1/playlists/{PLAYLIST_ID}/items?offset=50"
            local = {"item": {"type": "track", "id": None, "is_local": True, "name": "local file"}}
            episode = {"item": {"type": "episode", "id": TRACK_IDS[0]}}
            self._send(200, {"items": [{"item": _track(0)}, {"item": _track(1)}, local, episode], "next": page2})
        elif self.path.startswith("/v1/playlists/"):
            self._send(200, {"name": "Rainy Day Mix"})
        else:
            self._send(404, {"error": {"status": 404, "message": "not found"}})


@pytest.fixture
def fake_api() -> Iterator[str]:
    FakeSpotify.mode, FakeSpotify.requests = "ok", []
    FakeSpotify.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSpotify)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    FakeSpotify.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'spotify.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        local = [("Someone Like You", "Adele"), ("Let It Be", "The Beatles"), ("Help!", "The Beatles"),
                 ("Yesterday", "The Beatles")]  # fmt: skip
        s.add_all(Track(title=t, artists=a, valence=0.2, energy=0.3, source="starter") for t, a in local)
        s.commit()  # local tracks for the fallback search to find
        yield s
    engine.dispose()


def make_client(base: str, **kwargs: Any) -> SpotifyClient:
    return SpotifyClient("client-id", "client-secret", api_base=f"{base}/v1/", token_url=f"{base}/api/token", **kwargs)


def timed_search(session: Session, client: SpotifyClient | None, query: str = "adele someone") -> tuple[Any, float]:
    started = time.monotonic()
    result = search_tracks(session=session, client=client, query=query)
    return result, time.monotonic() - started


def test_search_returns_spotify_tracks_on_200(fake_api: str, session: Session) -> None:
    result, elapsed = timed_search(session, make_client(fake_api))
    assert result.from_spotify and result.note is None and elapsed < 5
    assert [t.spotify_id for t in result.tracks] == TRACK_IDS[:2]
    assert result.tracks[0].artists == "Singer 0;Guest" and result.tracks[0].album == "Album 0"


@pytest.mark.parametrize(("mode", "words"), [("401", "HTTP 401"), ("403", "HTTP 403"), ("bad-credentials", "client")])
def test_search_falls_back_on_refusals(fake_api: str, session: Session, mode: str, words: str) -> None:
    FakeSpotify.mode = mode
    result, elapsed = timed_search(session, make_client(fake_api))
    assert not result.from_spotify and elapsed < 5
    assert words in str(result.note) and "local catalog" in str(result.note)
    assert [(t.title, t.artists) for t in result.tracks] == [("Someone Like You", "Adele")]


def test_search_waits_retry_after_once_then_falls_back(fake_api: str, session: Session) -> None:
    FakeSpotify.mode = "429"
    result, elapsed = timed_search(session, make_client(fake_api))
    assert not result.from_spotify and "rate-limiting" in str(result.note)
    assert 1.0 <= elapsed < 5
    assert sum("/search" in p for p in FakeSpotify.requests) == 2  # one retry, no more


def test_search_retries_once_after_a_short_429(fake_api: str, session: Session) -> None:
    FakeSpotify.mode = "429-once"
    result, elapsed = timed_search(session, make_client(fake_api))
    assert result.from_spotify and len(result.tracks) == 2 and elapsed < 5


def test_search_does_not_wait_for_a_long_retry_after(fake_api: str, session: Session) -> None:
    FakeSpotify.mode = "429-long"
    slept: list[float] = []
    result, elapsed = timed_search(session, make_client(fake_api, sleep=slept.append))
    assert not result.from_spotify and "120 s" in str(result.note)
    assert slept == [] and elapsed < 5
    assert sum("/search" in p for p in FakeSpotify.requests) == 1


def test_search_gives_up_on_a_hanging_server(fake_api: str, session: Session) -> None:
    FakeSpotify.mode = "hang"
    result, elapsed = timed_search(session, make_client(fake_api))
    assert not result.from_spotify and "did not answer" in str(result.note)
    assert elapsed < 5


def test_search_falls_back_when_spotify_is_unreachable(session: Session) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result, elapsed = timed_search(session, make_client(f"http://127.0.0.1:{port}"))
    assert not result.from_spotify and "cannot be reached" in str(result.note) and elapsed < 5


def test_search_without_credentials_uses_the_local_catalog(session: Session) -> None:
    assert SpotifyClient.from_settings(Settings()) is None
    result, _ = timed_search(session, None, "BEATLES")
    assert not result.from_spotify and "not configured" in str(result.note)
    assert {t.artists for t in result.tracks} == {"The Beatles"} and len(result.tracks) == 3


def test_client_uses_memory_cache_and_no_retries(fake_api: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = make_client(fake_api)
    client.search_tracks("x")
    sp = client._sp
    assert isinstance(sp.auth_manager.cache_handler, MemoryCacheHandler)
    assert sp.retries == 0 and sp.status_retries == 0 and sp.requests_timeout <= 3
    assert list(tmp_path.iterdir()) == []  # no .cache file


def test_import_playlist_adds_tracks_with_the_mood(fake_api: str, session: Session) -> None:
    upsert_tracks(session=session, records=[TrackRecord("Happy", "Pharrell", TRACK_IDS[0], valence=0.96, energy=0.82)])
    url = f"https://open.spotify.com/playlist/{PLAYLIST_ID}?si=abc"
    outcome = import_playlist(session=session, client=make_client(fake_api), playlist=url, mood="Calm")
    assert outcome.note is None and outcome.report is not None
    assert (outcome.report.inserted, outcome.report.updated, outcome.report.rows) == (2, 1, 3)
    assert outcome.report.source == "playlist:Rainy Day Mix"
    rows = {t.spotify_id: t for t in session.scalars(select(Track).where(Track.spotify_id.in_(TRACK_IDS)))}
    assert (rows[TRACK_IDS[0]].valence, rows[TRACK_IDS[0]].mood_tag) == (0.96, "calm")  # real features kept
    assert (rows[TRACK_IDS[2]].valence, rows[TRACK_IDS[2]].energy) == MOOD_POINTS["calm"]
    again = import_playlist(session=session, client=make_client(fake_api), playlist=url, mood="calm", name="Mine")
    assert again.report is not None and (again.report.inserted, again.report.updated) == (0, 0)


def test_import_playlist_falls_back_on_403(fake_api: str, session: Session) -> None:
    FakeSpotify.mode = "403"
    started = time.monotonic()
    outcome = import_playlist(session=session, client=make_client(fake_api), playlist=PLAYLIST_ID, mood="happy")
    assert outcome.report is None and "HTTP 403" in str(outcome.note) and time.monotonic() - started < 5


def test_import_playlist_validates_its_input(session: Session) -> None:
    with pytest.raises(ValueError, match="happy, energetic, calm, sad"):
        import_playlist(session=session, client=None, playlist=PLAYLIST_ID, mood="furious")
    with pytest.raises(ValueError, match="playlist link"):
        import_playlist(session=session, client=None, playlist="https://example.com/x", mood="happy")
    outcome = import_playlist(session=session, client=None, playlist=PLAYLIST_ID, mood="happy")
    assert outcome.report is None and "not configured" in str(outcome.note)


@pytest.mark.parametrize(
    "value",
    [PLAYLIST_ID, f"spotify:playlist:{PLAYLIST_ID}", f"https://open.spotify.com/playlist/{PLAYLIST_ID}?si=1a2b"],
)
def test_parse_playlist_id_accepts_links_uris_and_ids(value: str) -> None:
    assert parse_playlist_id(value) == PLAYLIST_ID
