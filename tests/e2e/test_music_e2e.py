"""Music on the default install, in a real Chromium: a fresh data directory started the README's way
(``awsome db upgrade`` then ``streamlit run app.py``, no catalog import) gives the astronaut Spotify players;
with open.spotify.com unreachable (it is here: every host but 127.0.0.1 resolves to nothing) every card still
has its title, artists and an "Open in Spotify" link; a vote is confirmed and can be undone; a strategy answers
in place; the server log has no deprecation warning.

Screenshots of the cards at 1366x900 and 390x844 go to ``$AWSOME_E2E_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.helpers import expect_signed_in, open_page, register, wait_idle

PASSWORD = "correct-horse-battery"
EMBED = re.compile(r"^https://open\.spotify\.com/embed/track/([0-9A-Za-z]{22})")
CARDS = "div.card[data-key]"  # ui/static/music_cards.js (Playwright's CSS selectors go into its shadow root)
LIKE, DISLIKE = "Like: more like this", "Not for me"  # the buttons' accessible names (ui/music_cards.py)


def _astronaut_jpeg(path: Path) -> Path:
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


def _scalar(db_url: str, sql: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as c:
        value = c.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def _wait_until(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.25)


def _shoot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.locator(CARDS).first.scroll_into_view_if_needed()
    page.screenshot(path=str(path), full_page=False)
    target = os.environ.get("AWSOME_E2E_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)


def test_default_install_plays_the_astronaut_and_cards_work_without_spotify(
    app_factory: Any, new_page: Any, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = app_factory(db_url)  # awsome db upgrade + streamlit run app.py, as `make run` does; nothing imported
    assert _scalar(db_url, "SELECT COUNT(*) FROM tracks WHERE spotify_id IS NOT NULL") >= 1500
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(app.url)
    register(page, "listener", "Listener", PASSWORD)
    expect_signed_in(page)
    open_page(page, "Photo")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(_astronaut_jpeg(tmp_path / "a.jpg")))
    expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=30_000)
    expect(page.locator(CARDS)).to_have_count(10, timeout=30_000)
    wait_idle(page)

    players = page.locator("iframe").evaluate_all("fs => fs.map(f => f.src).filter(s => s.includes('/embed/track/'))")
    assert len(players) >= 5, players
    cards = page.locator(CARDS)
    for i in range(cards.count()):
        card = cards.nth(i)
        lines = [line for line in card.inner_text().splitlines() if line.strip()]
        assert len(lines) >= 3 and lines[0].strip() and lines[1].strip(), lines  # title, artists, link + why
        link = card.get_by_role("link", name="Open in Spotify")
        expect(link).to_have_count(1)
        href = link.get_attribute("href") or ""
        player = card.locator("iframe")
        if player.count():  # the link opens the very track the player would play
            track_id = EMBED.match(player.get_attribute("src") or "")
            assert track_id is not None and href == f"https://open.spotify.com/track/{track_id.group(1)}"
        else:
            assert href.startswith("https://open.spotify.com/")
        assert link.get_attribute("target") == "_blank"
    _shoot(page, tmp_path, "music-cards-1366x900.png")

    first = cards.first
    title = first.inner_text().splitlines()[0]
    first.get_by_role("button", name=LIKE).click()
    expect(page.get_by_text("Liked: more like this next time.")).to_be_visible(timeout=30_000)
    _wait_until(lambda: _scalar(db_url, "SELECT COUNT(*) FROM feedback WHERE value = 1") == 1)
    liked = page.locator(CARDS).filter(has_text=title)
    expect(liked.get_by_role("button", name=LIKE)).to_have_attribute("aria-pressed", "true")
    expect(liked.get_by_role("button", name=DISLIKE)).to_have_attribute("aria-pressed", "false")
    _shoot(page, tmp_path, "music-liked-1366x900.png")  # the pressed like and its confirmation with Undo
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Vote removed.")).to_be_visible(timeout=30_000)
    _wait_until(lambda: _scalar(db_url, "SELECT COUNT(*) FROM feedback") == 0)

    recommended = _scalar(db_url, "SELECT COUNT(*) FROM recommendations")
    page.get_by_text("Calm me down", exact=True).click()
    expect(page.get_by_text("to slow things down").first).to_be_visible(timeout=30_000)
    assert _scalar(db_url, "SELECT COUNT(*) FROM recommendations") == recommended + 10
    expect(page.get_by_test_id("stImage")).to_have_count(1)  # the photo stays: only the music block reran

    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    card = page.locator(CARDS).first
    title_box = card.locator(".names").bounding_box()
    like_box = card.get_by_role("button", name=LIKE).bounding_box()
    assert title_box and like_box and like_box["y"] < title_box["y"] + title_box["height"]  # beside, not below
    _shoot(page, tmp_path, "music-cards-390x844.png")

    log = app.log()
    assert not re.search(r"(?i)deprecat|will be removed", log), log[-3000:]
