"""API tokens as a user meets them: create one on the Account page in Chromium, use it against a real
``awsome api`` on the same database, see the reading in History, revoke it, and the API refuses it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.api.conftest import start_api, stop_api
from tests.conftest import PROJECT_ROOT
from tests.e2e.helpers import expect_signed_in, register, wait_idle

SCREENS = Path(os.environ.get("AWSOME_SCREENS_DIR", PROJECT_ROOT / "artifacts" / "screens"))
PASSWORD = "tokens-e2e-passphrase"


def _open(page: Any, title: str, heading: str) -> None:
    """Open a page from the sidebar; a click that lands during a rerun can be lost, so try again."""
    for _ in range(3):
        wait_idle(page)
        page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
        try:
            expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=20_000)
            wait_idle(page)
            return
        except AssertionError:
            continue
    raise AssertionError(f"could not open {title}")


def _screens(page: Any, name: str, focus: Any) -> None:
    """Screenshots at desktop and phone size with *focus* scrolled into view (Streamlit scrolls its main
    section, not the page, so a full-page shot would not reach it)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in {"desktop": (1366, 900), "phone": (390, 844)}.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(600)
        focus.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENS / f"{name}-{label}.png"))
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_token_made_on_the_account_page_works_until_revoked(app_factory: Any, new_page: Any, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    app = app_factory(database_url)
    (tmp_path / "api").mkdir()
    api = start_api(tmp_path / "api", database_url)
    try:
        page = new_page()
        page.goto(app.url)
        register(page, "tokenuser", "Token User", PASSWORD)
        expect_signed_in(page)
        _open(page, "Account", "API tokens")
        page.get_by_label("Name of a new token").fill("my phone")
        page.get_by_role("button", name="Create token").click()
        code = page.locator('[data-testid="stCode"] code').first
        expect(code).to_contain_text("awsome_pat_", timeout=30_000)
        token = code.inner_text().strip()
        expect(page.get_by_text("shown only this once")).to_be_visible()
        _screens(page, "account-token-created", code)

        with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            probabilities = {"angry": 0.02, "disgust": 0.01, "fear": 0.01, "happy": 0.02, "sad": 0.9}
            made = client.post(
                "/v1/readings", json={"probabilities": {**probabilities, "surprise": 0.02, "neutral": 0.02}}
            )
            assert made.status_code == 201, made.text

            _open(page, "History", "History")
            expect(page.get_by_text("No readings", exact=False)).to_have_count(0)
            _open(page, "Account", "API tokens")
            expect(page.get_by_text("my phone")).to_be_visible()
            expect(page.get_by_text("last used never")).to_have_count(0)  # the API call counts as a use
            _screens(page, "account-tokens", page.get_by_role("button", name="Revoke"))
            page.get_by_role("button", name="Revoke").click()
            expect(page.get_by_text("You have no API tokens.")).to_be_visible(timeout=30_000)
            assert client.get("/v1/readings").status_code == 401
    finally:
        stop_api(api)
    assert token not in app.log() and token not in api.log()
