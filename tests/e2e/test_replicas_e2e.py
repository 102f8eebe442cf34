"""Two replicas behind nginx on one MariaDB (scripts/local_stack.py), driven by a real Chromium across a
replica restart.

A user signs up through the balancer and takes a reading on the Photo page. Their replica goes down: nginx
sends the tab to the other replica, where the open tab reruns by itself (no reload) and signs them in again
from the login cookie, and the reading they take there is stored. Their replica comes back: the same tab (its
session now lives on the other replica) still works, uploads included, and a new tab served by the restarted
replica shows every reading. The user keeps photos: those of readings on both replicas are in the shared
database, and deleting the history on the restarted replica removes every one. A signed-in deep link to a
fresh process lands on the linked page.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from scripts.local_stack import LocalStack
from tests.conftest import skip_or_fail
from tests.e2e.conftest import free_port
from tests.e2e.helpers import cookie_value, expect_signed_in, open_page, register, wait_for_cookie

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

PASSWORD = "correct-horse-battery"
USERNAME = "replicauser"


def _astronaut_photos(folder: Path) -> list[Path]:
    """Three different files of the astronaut (the Photo page stores one reading per photo and session)."""
    from PIL import Image, ImageOps
    from skimage import data

    image = Image.fromarray(data.astronaut())
    variants = [image, ImageOps.mirror(image), image.resize((400, 400))]
    paths = [folder / f"astronaut-{i}.jpg" for i in range(len(variants))]
    for variant, path in zip(variants, paths, strict=True):
        variant.save(path, quality=92)
    return paths


def _distinct_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


@pytest.fixture
def stack(mysql_database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        skip_or_fail("nginx not found: apt-get install nginx (Debian's package; .ci/run installs it)")
    lb, app1, app2 = _distinct_ports(3)
    local = LocalStack(mysql_database_url, tmp_path / "stack", listen_port=lb, replica_ports=(app1, app2))
    local.start()
    yield local
    local.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(f"\n{local.logs()}\n")
    local.cleanup()


def _readings(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT e.source FROM mood_events e JOIN users u ON u.id = e.user_id "
                    "WHERE u.username = :name ORDER BY e.id"
                ),
                {"name": USERNAME},
            ).all()
    finally:
        engine.dispose()
    return [str(r[0]) for r in rows]


def _photo_count(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            return int(
                c.execute(
                    text(
                        "SELECT COUNT(*) FROM mood_event_photos p JOIN users u ON u.id = p.user_id "
                        "WHERE u.username = :name"
                    ),
                    {"name": USERNAME},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _replica(page: Any) -> str | None:
    """The replica nginx pinned this browser to (its ``awsome_replica`` cookie)."""
    return cookie_value(page, "awsome_replica")


def _wait_for_replica(page: Any, name: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while _replica(page) != name:
        if time.monotonic() > deadline:
            raise AssertionError(f"the browser was not moved to {name} (cookie: {_replica(page)})")
        page.wait_for_timeout(250)


def _routed_to(stack: LocalStack, name: str) -> str:
    """Which replica nginx sends a browser pinned to *name* to right now."""
    request = urllib.request.Request(stack.url + "/_stcore/health", headers={"Cookie": f"awsome_replica={name}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
    return next((c.removeprefix("awsome_replica=") for c in cookies if c.startswith("awsome_replica=")), "")


def _wait_until_routed(stack: LocalStack, name: str, timeout_s: float = 30) -> None:
    """nginx retries a replica it marked down after fail_timeout: wait until it sends *name*'s users back."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError):
            if _routed_to(stack, name) == name:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"nginx still does not route to {name}")
        time.sleep(0.5)


def _take_reading(page: Any, photo: Path, db_url: str) -> list[str]:
    """Upload the photo on the (open) Photo page, confirm the mood, wait until it is stored; return the
    user's readings."""
    before = len(_readings(db_url))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo))
    expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=30_000)
    deadline = time.monotonic() + 30
    while len(readings := _readings(db_url)) == before and time.monotonic() < deadline:
        time.sleep(0.25)
    return readings


def _back_on_photo_page(page: Any, timeout_ms: int = 30_000) -> bool:
    """True once the tab shows a fresh Photo page (no earlier reading's confirmation) at /photo."""
    try:
        expect(page.get_by_role("heading", name="Photo")).to_be_visible(timeout=timeout_ms)
        expect(page.locator('[data-testid="stFileUploaderDropzoneInput"]')).to_be_attached(timeout=timeout_ms)
        expect(page.get_by_text("Saved to your history.")).to_have_count(0, timeout=timeout_ms)
    except AssertionError:
        return False
    return page.url.rstrip("/").endswith("/photo")


def _expect_readings_metric(page: Any, n: int) -> None:
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text("Readings", exact=True))
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(str(n), timeout=30_000)


def test_user_stays_signed_in_and_keeps_readings_across_a_replica_restart(
    stack: LocalStack, mysql_database_url: str, new_page: Any, tmp_path: Path
) -> None:
    photos = _astronaut_photos(tmp_path)
    page = new_page()
    page.goto(stack.url)
    register(page, USERNAME, "Replica User", PASSWORD)
    expect_signed_in(page)
    first = _replica(page)
    assert first in stack.replicas, f"nginx set no replica cookie ({page.context.cookies()})"
    other = next(name for name in stack.replicas if name != first)
    open_page(page, "Account")  # keep photos: they must be shared by every replica (issue 17, item 3)
    page.get_by_text("Keep the photos I analyse", exact=False).click()
    expect(page.get_by_role("switch", name="Keep the photos I analyse", exact=False)).to_be_checked()
    open_page(page, "Photo")
    assert _take_reading(page, photos[0], mysql_database_url) == ["photo"]

    # Its replica goes down. Streamlit's frontend reconnects its websocket through nginx to the other
    # replica, a new session, and reruns there by itself (ui/failover.py): with no reload, the same tab is
    # signed in again from the cookie and shows the Photo page again, ready for the next reading.
    stack.stop_replica(first)
    _wait_for_replica(page, other)
    # (It once went through the default page first, and under load the test caught it there: a fresh process
    # ran its first session in Streamlit's "pages directory" mode; app.py's pages now live in app_pages/.)
    started = time.monotonic()
    assert _back_on_photo_page(page, timeout_ms=60_000), f"the tab did not rerun on {other} by itself: {page.url}"
    print(f"[failover] the tab reran on the other replica by itself, {time.monotonic() - started:.1f} s after the move")
    expect_signed_in(page)
    assert _replica(page) == other
    assert _take_reading(page, photos[1], mysql_database_url) == ["photo"] * 2, "the reading taken during the outage"

    # It comes back. The tab's session lives on the other replica now and stays there, uploads included.
    stack.start_replica(first)
    _wait_until_routed(stack, first)
    open_page(page, "History")
    _expect_readings_metric(page, 2)
    open_page(page, "Photo")
    assert _take_reading(page, photos[2], mysql_database_url) == ["photo"] * 3
    assert _replica(page) == other

    # A new tab pinned to the restarted replica: signed in from the cookie, every reading there.
    login = next(c for c in page.context.cookies() if c["name"] == "awsome_auth")
    tab = new_page()
    tab.context.add_cookies([login, {**login, "name": "awsome_replica", "value": first}])
    tab.goto(stack.url)
    expect_signed_in(tab)
    open_page(tab, "History")
    _expect_readings_metric(tab, 3)
    assert _replica(tab) == first
    # The photos of readings taken on both replicas are in the shared database; deleting the history on the
    # restarted replica removes all of them, whichever replica kept them.
    assert _photo_count(mysql_database_url) == 3
    tab.get_by_text("Delete my history", exact=True).first.click()
    tab.get_by_text("I understand that this cannot be undone").click()
    tab.get_by_role("button", name="Delete my history").click()
    expect(tab.get_by_text("Your history has been deleted.")).to_be_visible(timeout=30_000)
    assert _photo_count(mysql_database_url) == 0 and _readings(mysql_database_url) == []
    assert tab.dialogs == [] and page.dialogs == []


def test_deep_link_to_a_fresh_replica_goes_through_sign_in(app_factory: Any, new_page: Any) -> None:
    """After every restart or scale-out a replica is fresh, and a reload of any page is a deep link to it."""
    app = app_factory()
    page = new_page()
    page.goto(app.url + "/photo")
    expect(page.get_by_role("tab", name="Create account")).to_be_visible(timeout=10_000)


def test_signed_in_deep_link_to_a_fresh_replica_lands_on_the_linked_page(app_factory: Any, new_page: Any) -> None:
    """A reload of /history after a failover or a deploy: a fresh process, a valid login cookie."""
    first = app_factory()
    page = new_page()
    page.goto(first.url)
    register(page, "deeplinker", "Deep Linker", PASSWORD)
    expect_signed_in(page)
    wait_for_cookie(page)
    login = next(c for c in page.context.cookies() if c["name"] == "awsome_auth")
    fresh = app_factory(first.env["AWSOME_DATABASE_URL"])  # same database and cookie key, new process
    tab = new_page()
    tab.context.add_cookies([{**login, "domain": "127.0.0.1"}])
    tab.goto(fresh.url + "/history")
    expect_signed_in(tab)
    expect(tab.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    assert tab.url.endswith("/history"), tab.url
