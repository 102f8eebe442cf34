"""Injection through every door a user or a catalog has (issue #7, items 5 and 7), in a real Chromium on MySQL.

Payloads -- ``<script>``, ``"><img onerror>``, markdown links and images, SQL metacharacters -- go in through
registration (display name; usernames are refused), sign-in, a catalog CSV uploaded on the About page (titles,
artists, the file name), and a Spotify playlist import (the playlist's track and artist names, the name the
user gives it; Spotify is a fake server the app is pointed at). They come out on the Photo page (recommended
tracks: Spotify embeds, captions), in the sidebar, on the Account, History and About pages. Every page must show
them as text -- no payload runs, no element carries one, in any frame -- and the database must hold them
verbatim (SQL metacharacters are data, the tables are intact).

The server runs with ``AWSOME_LOG_LEVEL=DEBUG``; its log must not contain the password, the login cookie, the
cookie key, the Spotify secret or the uploaded photo's bytes (item 7).
"""

from __future__ import annotations

import base64
import csv
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AppServer, start_app
from tests.e2e.helpers import expect_signed_in, open_page, register, sign_in, visible, wait_for_cookie, wait_idle
from tests.e2e.security import DEEP_ELEMENTS, MARK, app_frames, assert_no_injection, leaked_secrets

PASSWORD = "correct-horse-battery-9"
DISPLAY_NAME = f"\"><img src=x onerror=alert('{MARK}-1')>';--"
TITLE_SCRIPT = f"<script>alert('{MARK}-2')</script>"
ARTIST_IMG = f"\"><img src=x onerror=alert('{MARK}-3')>"
TITLE_SQL = "Robert'); DROP TABLE tracks;--"
ARTIST_QUOTES = 'O\'Brien & "Sons" <b>bold</b> \\'
TITLE_MARKDOWN = f"**bold** [click](javascript:alert('{MARK}-4'))"
ARTIST_MARKDOWN = "![pixel](http://127.0.0.1:9/track.png) `code` $x^2$"
PLAYLIST_NAME = f"<img src=x onerror=alert('{MARK}-5')>'; DELETE FROM tracks;--"
PLAYLIST_TITLE = f"</iframe><script>alert('{MARK}-6')</script>"
PLAYLIST_ARTIST = f"' OR '1'='1\" onmouseover=\"alert('{MARK}-7')"
CSV_NAME = f"mix \"><img src=x onerror=alert('{MARK}-8')>.csv"
SPOTIFY_ID, SPOTIFY_SECRET = "e2e-client-id", "e2e-client-secret-do-not-log"
PLAYLIST_ID = "37i9dQZF1DXdPec7aLTmlC"


def _ids(prefix: str, n: int) -> list[str]:
    return [(prefix + f"{i:02d}").ljust(22, "x")[:22] for i in range(n)]


CATALOG_IDS, PLAYLIST_IDS = _ids("catalogtrackA", 8), _ids("playlisttrackB", 2)
CATALOG = [  # (title, artists); valence and energy spread so that any mood gets all of them
    (TITLE_SCRIPT, ARTIST_IMG),
    (TITLE_SQL, ARTIST_QUOTES),
    (TITLE_MARKDOWN, ARTIST_MARKDOWN),
    *((f"Plain song {i}", f"Plain artist {i}") for i in range(5)),
]


class FakeSpotify(BaseHTTPRequestHandler):
    """Spotify's token endpoint and one public playlist whose names are payloads."""

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._json({"access_token": "fake-access-token-xyz", "token_type": "Bearer", "expires_in": 3600})

    def do_GET(self) -> None:  # noqa: N802
        if "/tracks" in self.path or "/items" in self.path:
            names = ((PLAYLIST_TITLE, PLAYLIST_ARTIST), ("Calm one", "Calm artist"))
            tracks = [
                {"type": "track", "id": PLAYLIST_IDS[i], "name": name, "artists": [{"name": artist}]}
                for i, (name, artist) in enumerate(names)
            ]
            items = [{"track": t} for t in tracks]
            self._json({"items": items, "next": None})
        else:
            self._json({"name": "A playlist"})


@pytest.fixture
def fake_spotify() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSpotify)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def app(
    tmp_path: Path, mysql_database_url: str, fake_spotify: str, request: pytest.FixtureRequest
) -> Iterator[AppServer]:
    """The app on MySQL, its Spotify client pointed at the fake (keyword defaults patched before it starts)."""
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import os, sys\n"
        "from awsome_core.music import spotify\n"
        "defaults = spotify.SpotifyClient.__init__.__kwdefaults__\n"
        "defaults['api_base'] = os.environ['E2E_SPOTIFY'] + '/v1/'\n"
        "defaults['token_url'] = os.environ['E2E_SPOTIFY'] + '/api/token'\n"
        "from streamlit.web import cli\n"
        "sys.argv[0] = 'streamlit'\n"
        "sys.exit(cli.main())\n"
    )
    server = start_app(
        tmp_path,
        database_url=mysql_database_url,
        launcher=[sys.executable, str(launcher)],
        extra_env={
            "E2E_SPOTIFY": fake_spotify,
            "AWSOME_SPOTIFY_CLIENT_ID": SPOTIFY_ID,
            "AWSOME_SPOTIFY_CLIENT_SECRET": SPOTIFY_SECRET,
            "AWSOME_LOG_LEVEL": "DEBUG",
            "AWSOME_STARTER_CATALOG": "0",  # the 10-track catalog of this test only
        },
    )
    yield server
    server.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(f"\n----- {server.url} log -----\n{server.log()[-6000:]}\n")


def _catalog_csv(path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "artists", "valence", "energy"])
        for i, ((title, artists), track_id) in enumerate(zip(CATALOG, CATALOG_IDS, strict=True)):
            writer.writerow([track_id, title, artists, f"{0.1 + 0.1 * i:.2f}", f"{0.9 - 0.1 * i:.2f}"])
    return path


def _astronaut_jpeg(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


def _rows(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text(sql)).all()]
    engine.dispose()
    return rows


def test_payloads_render_as_text_and_are_stored_verbatim(
    app: AppServer, new_page: Any, mysql_database_url: str, tmp_path: Path
) -> None:
    page = new_page()
    page.goto(app.url)

    # Registration: a username with SQL in it is refused by the rules; the display name is free text.
    register(page, "x'; DROP TABLE users;--", "Eve", PASSWORD)
    expect(page.get_by_text("Usernames are 3 to 32 characters")).to_be_visible()
    page.reload()
    register(page, "mallory", DISPLAY_NAME, PASSWORD)
    expect_signed_in(page)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {DISPLAY_NAME}")).to_be_visible()
    assert_no_injection(page)

    # Sign-in with SQL in the username and password: a wrong password, nothing else.
    other = new_page()
    other.goto(app.url)
    sign_in(other, "' OR '1'='1' -- ", "' OR '1'='1")
    expect(other.get_by_text("Wrong username or password.")).to_be_visible()

    # Catalog import on the About page: payload titles, artists and file name.
    open_page(page, "About")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(_catalog_csv(tmp_path / CSV_NAME)))
    wait_idle(page)
    page.get_by_role("button", name="Import this file").click()
    expect(page.get_by_text(re.compile(r"8 tracks \(8 new"))).to_be_visible(timeout=60_000)
    success = page.get_by_test_id("stAlertContentSuccess")  # the browser sends the name %-encoding the quote
    expect(success.get_by_text(f"<img src=x onerror=alert('{MARK}-8')>.csv", exact=False)).to_be_visible()

    # Spotify playlist import (fake Spotify): payload track and artist names, payload playlist name.
    visible(page, "Public Spotify playlist link").fill(f"https://open.spotify.com/playlist/{PLAYLIST_ID}")
    visible(page, "Name it").fill(PLAYLIST_NAME)
    page.get_by_role("button", name="Import playlist").click()
    expect(page.get_by_text(re.compile(r"2 tracks \(2 new"))).to_be_visible(timeout=60_000)
    assert_no_injection(page)

    # A reading: every track is recommended (a 10-track catalog, 10 picks) and shown.
    open_page(page, "Photo")
    photo = _astronaut_jpeg(tmp_path / "me.jpg")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=60_000)
    page.wait_for_function(
        f"() => ({DEEP_ELEMENTS})().filter(f => f.tagName === 'IFRAME' && "
        "(f.src || '').includes('open.spotify.com/embed/track/')).length >= 10",
        timeout=60_000,
    )
    wait_idle(page)
    players = [t for f in app_frames(page) for t in _player_titles(f)]
    for title, artist in [*CATALOG[:3], (PLAYLIST_TITLE, PLAYLIST_ARTIST)]:
        card = page.locator("div.card[data-key]").filter(has_text=title)  # ui/static/music_cards.js
        expect(card.first).to_be_visible()
        # The player's title attribute holds the whole string: nothing broke out of it.
        assert players.count(f"Spotify player: {title} by {artist}") == 1, (title, players)
    assert_no_injection(page)

    for title in ("History", "Account", "Live camera", "About"):
        open_page(page, title)
        assert_no_injection(page)
    expect(page.get_by_text(f"Name: {DISPLAY_NAME}", exact=False)).to_have_count(0)  # About has no name
    open_page(page, "Account")
    expect(page.get_by_text(DISPLAY_NAME, exact=False).first).to_be_visible()
    assert page.get_by_text("Traceback").count() == 0

    # The database holds every payload verbatim, and every table is still there.
    titles = dict(_rows(mysql_database_url, "SELECT spotify_id, title FROM tracks"))
    assert [titles[i] for i in CATALOG_IDS[:3]] == [t for t, _ in CATALOG[:3]]
    assert titles[PLAYLIST_IDS[0]] == PLAYLIST_TITLE
    sources = {s for (s,) in _rows(mysql_database_url, "SELECT DISTINCT source FROM tracks")}
    assert ("playlist:" + PLAYLIST_NAME)[:64] in sources
    assert _rows(mysql_database_url, "SELECT username, display_name FROM users") == [("mallory", DISPLAY_NAME)]
    assert _rows(mysql_database_url, "SELECT COUNT(*) FROM tracks") == [(10,)]
    assert _rows(mysql_database_url, "SELECT COUNT(*) FROM mood_events") == [(1,)]

    # Item 7: the DEBUG log holds no password, cookie, key, Spotify secret or photo bytes.
    cookie = wait_for_cookie(page)
    log = app.log()
    assert "Traceback" not in log
    secrets = {
        "password": PASSWORD,
        "login cookie": cookie,
        "cookie signature": cookie.rsplit(".", 1)[-1],
        "cookie key": app.env["AWSOME_COOKIE_KEY"],
        "spotify secret": SPOTIFY_SECRET,
        "spotify basic auth": base64.b64encode(f"{SPOTIFY_ID}:{SPOTIFY_SECRET}".encode()).decode(),
        "spotify token": "fake-access-token-xyz",
    }
    assert leaked_secrets(log, secrets, [photo.read_bytes()]) == []


def _player_titles(frame: Any) -> list[str]:
    try:
        players = f"""() => ({DEEP_ELEMENTS})()
            .filter(f => f.tagName === 'IFRAME' && (f.src || '').includes('open.spotify.com/embed/track/'))
            .map(f => f.title)"""
        return list(frame.evaluate(players))
    except Exception:  # a detached Spotify frame
        return []


def test_catalog_csv_names_are_data(tmp_path: Path) -> None:
    """The CSV the browser test uploads parses to the payloads exactly (guards the test itself)."""
    from awsome_core.music.layouts import parse_catalog_csv

    records = parse_catalog_csv(_catalog_csv(tmp_path / "c.csv")).records
    assert [(r.title, r.artists) for r in records[:3]] == CATALOG[:3]
