"""Small Playwright helpers for driving Streamlit pages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

PAGES = ("Live camera", "Photo", "History", "Account", "About")


def wait_idle(page: Any, timeout_ms: int = 30_000, settle_ms: int = 1_500) -> None:
    """Wait until Streamlit has stopped running the script for *settle_ms* in a row.

    The cookie component reports back once after a page load and that triggers one more run;
    a form submitted during it can be lost, so tests wait for the app to settle first.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    quiet = waited = 0
    while quiet < settle_ms:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        quiet = 0 if running else quiet + 250
        page.wait_for_timeout(250)
        waited += 250
        if waited > timeout_ms:
            raise AssertionError("the app kept running for longer than the timeout")


def visible(page: Any, label: str) -> Any:
    return page.get_by_label(label, exact=True).filter(visible=True)


def register(page: Any, username: str, name: str, password: str) -> None:
    wait_idle(page)
    page.get_by_role("tab", name="Create account").click()
    visible(page, "Username").fill(username)
    visible(page, "Your name").fill(name)
    visible(page, "Password").fill(password)
    visible(page, "Repeat password").fill(password)
    page.get_by_role("button", name="Create account").click()


def sign_in(page: Any, username: str, password: str) -> None:
    wait_idle(page)
    page.get_by_role("tab", name="Sign in").click()
    visible(page, "Username").fill(username)
    visible(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).filter(visible=True).click()


def expect_signed_in(page: Any) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    for title in PAGES:
        expect(nav.get_by_text(title, exact=True)).to_be_visible(timeout=60_000)


def expect_signed_out(page: Any) -> None:
    expect(page.get_by_role("tab", name="Create account")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def sign_out(page: Any) -> None:
    wait_idle(page)
    page.get_by_role("button", name="Sign out").first.click()
    expect_signed_out(page)


def cookie_value(page: Any, name: str = "awsome_auth") -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == name), None)


def wait_for_cookie(
    page: Any, *, other_than: str | None = None, name: str = "awsome_auth", timeout_ms: int = 30_000
) -> str:
    """Wait until the login cookie is set to a value other than *other_than*; return it."""
    waited = 0
    while waited < timeout_ms:
        value = cookie_value(page, name)
        if value is not None and value != other_than:
            return value
        page.wait_for_timeout(250)
        waited += 250
    raise AssertionError(f"cookie {name!r} was not (re)set within {timeout_ms} ms")


def open_page(page: Any, title: str, heading: str | None = None) -> None:
    """Click *title* in the sidebar navigation once the current page has settled; wait for its heading."""
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=heading or title)).to_be_visible(timeout=60_000)
    wait_idle(page)
