"""Security headers at the edge, through the local nginx stack (scripts/local_stack.py: two replicas and the
HTTP API behind deploy/nginx/awsome.conf.template), and every page of the app in Chromium under its
Content-Security-Policy: no violation reported by any frame (the page, Streamlit's component iframes, the
Spotify players' frames) and no "Refused to ..." in the console.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from scripts.local_stack import LocalStack
from tests.conftest import skip_or_fail
from tests.e2e.conftest import free_port
from tests.e2e.helpers import expect_signed_in, open_page, register, wait_for_cookie, wait_idle
from tests.e2e.security import DEEP_ELEMENTS

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

PASSWORD = "correct-horse-battery"
PAGES = ("Live camera", "Photo", "History", "Account", "About")
# Collect CSP violations in every frame (init scripts run in each frame's document before its own scripts).
RECORD_VIOLATIONS_JS = """(() => {
  const seen = (window.top === window) ? (window.__csp = []) : null;
  document.addEventListener('securitypolicyviolation', e => {
    const v = {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, frame: location.href};
    try { window.top.__csp.push(v); } catch (err) { (window.__csp = window.__csp || []).push(v); }
  });
})();"""


def _headers(url: str) -> tuple[int, dict[str, str]]:
    """Status and headers (also of an error answer: nginx adds the headers ``always``)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}


def _csp(headers: dict[str, str]) -> dict[str, str]:
    directives = [d.strip() for d in headers["content-security-policy"].split(";") if d.strip()]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in directives}


def _spotify_players(page: Any) -> int:
    """``<iframe src="https://open.spotify.com/...">`` elements in the page and its same-origin frames, their
    shadow roots included (the players themselves stay empty: the test browser resolves no outside host)."""
    count = 0
    for frame in page.frames:
        if frame.url.startswith(("http://127.0.0.1", "about:srcdoc")):
            count += frame.evaluate(
                f"() => ({DEEP_ELEMENTS})().filter(f => f.tagName === 'IFRAME' && "
                "f.src.startsWith('https://open.spotify.com/')).length"
            )
    return count


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    import os

    from awsome_core.storage.db import temporary_mysql_database

    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        skip_or_fail("nginx not found: apt-get install nginx (Debian's package; .ci/run installs it)")
    base = os.environ.get("AWSOME_TEST_MYSQL_URL")
    if not base:
        skip_or_fail("AWSOME_TEST_MYSQL_URL is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    ports: set[int] = set()
    while len(ports) < 4:
        ports.add(free_port())
    lb, app1, app2, api = sorted(ports)
    with temporary_mysql_database(base, prefix="awsome_e2e") as url:
        # Migrated (and the starter catalog installed) once up front: this test is about the edge; replicas
        # migrating together are test_replicas_e2e's.
        env = {**os.environ, "AWSOME_DATABASE_URL": url}
        subprocess.run([str(Path(sys.executable).parent / "awsome"), "db", "upgrade"], env=env, check=True, timeout=180)
        folder = tmp_path_factory.mktemp("edge")
        stack = LocalStack(url, folder, listen_port=lb, replica_ports=(app1, app2), api_port=api)
        with stack:
            yield stack


def test_pages_carry_the_security_headers(edge: LocalStack) -> None:
    for path in ("/", "/photo", "/_stcore/health"):
        status, headers = _headers(edge.url + path)
        assert status == 200, path
        assert re.fullmatch(r"max-age=\d{8,}; includeSubDomains", headers["strict-transport-security"])
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "camera=(self)" in headers["permissions-policy"]
        assert headers["x-frame-options"] == "DENY"
        csp = _csp(headers)
        assert csp["frame-ancestors"] == "'none'", "a page that can open the camera must not be framed"
        assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
        assert csp["frame-src"] == "'self' https://open.spotify.com"
        assert "'unsafe-eval'" not in csp["script-src"]


def test_component_documents_may_be_framed_by_the_app_only(edge: LocalStack) -> None:
    # (404 until a session has imported the component: Streamlit registers components lazily)
    _, headers = _headers(edge.url + "/component/streamlit_webrtc.component.webrtc_streamer/index.html")
    assert _csp(headers)["frame-ancestors"] == "'self'"
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_api_is_served_at_api_with_the_prefix_stripped(edge: LocalStack) -> None:
    status, headers = _headers(edge.url + "/api/v1/health")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert _csp(headers) == {"default-src": "'none'", "frame-ancestors": "'none'"}
    assert headers["x-content-type-options"] == "nosniff"


def test_every_page_works_under_the_csp_in_chromium(edge: LocalStack, browser: Any, tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    console: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS_JS)
    page = context.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(edge.url)
    register(page, "headeruser", "Header User", PASSWORD)
    expect_signed_in(page)
    wait_for_cookie(page)  # the cookie component writes it a moment after the sign-in
    login = next(c for c in context.cookies() if c["name"] == "awsome_auth")
    # Set from JavaScript by streamlit-authenticator's cookie component: it cannot be HttpOnly (docs/deploy.md
    # says what limits the damage); the component does make it SameSite=Strict.
    assert (login["sameSite"], login["httpOnly"]) == ("Strict", False), login
    for title in PAGES:
        open_page(page, title)
        wait_idle(page)
        if title == "Photo":  # faces, chart, then music: Streamlit's components and Spotify's players
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo))
            expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="Confirm this mood").click()
            expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=30_000)
            wait_idle(page)
            assert _spotify_players(page) > 0, "the music for the mood: Spotify's embed frames"
            page.get_by_text("Saved to your history.").scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "csp-photo-music-wide.png"))
        for viewport, size in (("wide", (1366, 900)), ("phone", (390, 844))):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.wait_for_timeout(1_000)  # the sidebar's transition
            page.screenshot(
                path=str(tmp_path / f"csp-{title.replace(' ', '-').lower()}-{viewport}.png"), full_page=True
            )
        page.set_viewport_size({"width": 1366, "height": 900})
        assert page.get_by_test_id("stException").count() == 0, title
    violations = page.evaluate("() => window.__csp")
    refused = [line for line in console if "Content Security Policy" in line or "Refused to" in line]
    assert violations == [] and refused == [], json.dumps({"violations": violations, "console": refused}, indent=1)
    context.close()
