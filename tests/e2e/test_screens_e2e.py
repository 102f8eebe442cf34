"""Sign-in, History and About in a real Chromium at 1366×900 and 390×844, screenshots into artifacts/screens/.

Also what a first visitor sees before any page: no sidebar of raw page-file names while the app starts, and
a tab icon served by the app itself (this Chromium resolves no host but 127.0.0.1: the offline case).
On a phone the History page must not scroll sideways, and no chart's legend may sit on its title.
"""

from __future__ import annotations

import base64
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from awsome_core.emotions import EMOTIONS
from awsome_core.storage import repository
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.storage.models import Feedback, Recommendation, Track, User
from tests.conftest import PROJECT_ROOT
from tests.e2e.helpers import expect_signed_in, open_page, register, wait_idle

SCREENS = Path(os.environ.get("AWSOME_SCREENS_DIR", PROJECT_ROOT / "artifacts" / "screens"))
SIZES = {"wide": (1366, 900), "phone": (390, 844)}
PASSWORD = "correct-horse-battery"
PAGE_FILES = ("about", "account", "history", "live", "login", "photo")

#: For each plotly chart: do its legend and its title overlap, and does the title reach past the chart?
_CHART_LAYOUT_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
  const box = plot.getBoundingClientRect();
  const title = plot.querySelector('.gtitle');
  const legend = plot.querySelector('.legend');
  const t = title ? title.getBoundingClientRect() : null;
  const l = legend ? legend.getBoundingClientRect() : null;
  const overlap = !!(t && l && t.left < l.right && l.left < t.right && t.top < l.bottom && l.top < t.bottom);
  return {title: title ? title.textContent : '', overlap, cut: !!(t && t.right > box.right + 1)};
})"""


def _screens(page: Any, name: str) -> None:
    """``<name>-<size>.png`` of the first screen, and ``<name>-<size>-full.png`` of the whole page (Streamlit
    scrolls inside its own container, so the whole page is taken with the window as tall as the content)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(1_200)  # Streamlit and plotly re-lay out on resize
        page.screenshot(path=str(SCREENS / f"{name}-{label}.png"))
        tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": w, "height": min(max(h, int(tall)), 7_000)})
        page.wait_for_timeout(1_200)
        page.screenshot(path=str(SCREENS / f"{name}-{label}-full.png"))
    page.set_viewport_size({"width": 1366, "height": 900})


def _seed(db_url: str, username: str) -> None:
    """Two weeks of readings (one corrected), music for some of them, two likes and a dislike."""
    now = datetime.now(UTC)
    with make_sessionmaker(make_engine(db_url))() as session:
        user_id = session.scalars(select(User.id).where(User.username == username)).one()
        tracks = [
            Track(title=f"Track number {i} with a long title", artists="Band;Guest", source="e2e") for i in range(6)
        ]
        session.add_all(tracks)
        session.flush()
        for i in range(40):
            top = EMOTIONS[(i * 3) % len(EMOTIONS)]
            event = repository.add_mood_event(
                session=session,
                user_id=user_id,
                probabilities={e: (0.64 if e == top else 0.06) for e in EMOTIONS},
                source=("live", "photo")[i % 2],
                model_version="e2e",
                created_at=now - timedelta(hours=7 * i + 1),
                corrected_emotion="happy" if i == 0 else None,
            )
            if i % 8 == 0:
                session.add_all(
                    Recommendation(
                        user_id=user_id,
                        mood_event_id=event.id,
                        track_id=t.id,
                        strategy="lift",
                        rank=r + 1,
                        explanation="why",
                        created_at=event.created_at + timedelta(seconds=5),
                    )
                    for r, t in enumerate(tracks[:3])
                )
                repository.add_mood_event(  # the next reading, 20 minutes after the music: "did it help?"
                    session=session,
                    user_id=user_id,
                    probabilities={e: (0.64 if e == "happy" else 0.06) for e in EMOTIONS},
                    source="live",
                    model_version="e2e",
                    created_at=event.created_at + timedelta(minutes=20),
                )
        session.add_all(
            [Feedback(user_id=user_id, track_id=tracks[k].id, value=v) for k, v in ((0, 1), (1, 1), (2, -1))]
        )
        session.commit()


def test_first_load_shows_no_file_names_and_a_bundled_icon(app_factory: Any, new_page: Any) -> None:
    app = app_factory()
    page = new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app.url) else None)
    page.goto(app.url)
    seen: set[str] = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and page.get_by_role("tab", name="Create account").count() == 0:
        nav = page.get_by_test_id("stSidebarNav")
        if nav.count():
            seen.update(t.strip().lower() for t in nav.all_inner_texts())
        page.wait_for_timeout(50)
    assert not any(name in text for text in seen for name in PAGE_FILES), seen
    wait_idle(page)
    href = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]').href")
    # Bundled, not from a font CDN: a data: URL of the PNG in ui/static (ui.runtime.page_icon_url), or a file
    # the app serves.
    if href.startswith("data:"):
        assert href.startswith("data:image/png;base64,") and base64.b64decode(href.split(",", 1)[1])[:4] == b"\x89PNG"
    else:
        assert href.startswith(app.url), href
        icon = page.request.get(href)
        assert icon.ok and icon.headers["content-type"] == "image/png" and icon.body()[:4] == b"\x89PNG"
    assert (
        page.evaluate(
            "async (u) => { const i = new Image(); i.src = u; await i.decode(); return i.naturalWidth; }", href
        )
        == 64
    )
    assert [u for u in outside if "gstatic" in u or "googleapis" in u] == []
    _screens(page, "sign-in")
    page.get_by_role("tab", name="Create account").click()
    expect(page.get_by_text("not containing your username")).to_be_visible()
    _screens(page, "sign-up")


def test_history_and_about_at_desktop_and_phone_sizes(app_factory: Any, browser: Any, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    app = app_factory(db_url)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, timezone_id="Europe/Berlin")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(app.url)
        register(page, "screens", "Screen Tester", PASSWORD)
        expect_signed_in(page)
        expect(page.get_by_text("Welcome to AWSome, Screen Tester!")).to_be_visible()
        wait_idle(page)
        _screens(page, "welcome")
        _seed(db_url, "screens")
        open_page(page, "History")
        expect(page.locator(".js-plotly-plot")).to_have_count(5, timeout=60_000)
        expect(page.get_by_text("your correction is its emotion")).to_be_visible()
        _screens(page, "history")
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(1_500)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        charts = page.evaluate(_CHART_LAYOUT_JS)
        assert len(charts) == 5 and [c for c in charts if c["overlap"] or c["cut"]] == [], charts
        page.set_viewport_size({"width": 1366, "height": 900})
        # The boxes are built only when opened (a rerun): their content comes after the click.
        expect(page.get_by_role("combobox", name="Reading")).to_have_count(0)
        page.get_by_text("Correct a reading").click()
        expect(page.get_by_role("combobox", name="Reading")).to_be_visible()
        page.get_by_text("Delete my history", exact=True).first.click()
        expect(page.get_by_text("I understand that this cannot be undone")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(5)
        wait_idle(page)
        _screens(page, "history-boxes-open")
        open_page(page, "About", "About AWSome")
        expect(page.get_by_text("What AWSome does with your face.")).to_be_visible()
        expect(page.get_by_text("\\")).to_have_count(0)  # no escape backslash shown anywhere
        _screens(page, "about")
        page.get_by_text("The emotion model: its model card").click()
        expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=30_000)
        _screens(page, "about-model-card")
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(1_500)
        (matrix,) = page.evaluate(_CHART_LAYOUT_JS)
        assert matrix["title"].startswith("Confusion matrix") and not matrix["cut"], matrix  # not cut on a phone
    finally:
        context.close()
