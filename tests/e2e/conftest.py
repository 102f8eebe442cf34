"""Real Chromium (Debian's, driven by Playwright) against real `streamlit run` processes.

Skips with a clear reason where Chromium or Playwright is missing, fails instead when
AWSOME_REQUIRE_ALL=1 (CI). Chromium flags are the ones this machine needs (see README "Testing").
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, skip_or_fail

CHROMIUM = os.environ.get("AWSOME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_app(
    tmp_dir: Path,
    *,
    database_url: str,
    extra_env: dict[str, str] | None = None,
    launcher: Sequence[str] | None = None,
    health_check: Callable[[AppServer], bool] | None = None,
) -> AppServer:
    """Run migrations, then `streamlit run app.py` on a free port; wait for /_stcore/health.

    *launcher* replaces the `streamlit` executable in that command (the WebRTC tests run it through
    tests/e2e/run_streamlit.py, possibly in a network namespace); *health_check* replaces the HTTP probe
    (for a server the test process cannot reach directly)."""
    port = free_port()
    env = {
        **os.environ,
        "AWSOME_DATABASE_URL": database_url,
        "AWSOME_DATA_DIR": str(tmp_dir / "data"),
        "AWSOME_COOKIE_KEY": "e2e-cookie-key-" + "x" * 20,
        "AWSOME_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "awsome"), "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, timeout=120)
    log_path = tmp_dir / f"streamlit-{port}.log"
    cmd = [
        *(launcher or [str(bin_dir / "streamlit")]),
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}", proc, log_path, env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log()}")
        if health_check is not None:
            if health_check(server):
                return server
        else:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return server
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"streamlit did not answer on {server.url} within 90 s:\n{server.log()}")


@pytest.fixture(scope="session")
def playwright_sync() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -r requirements.txt)")
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a loaded 2-core machine can take seconds per script run
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_sync: Any) -> Iterator[Any]:
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def app_factory(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., AppServer]]:
    """Start app servers; their logs are printed when the test fails."""
    servers: list[AppServer] = []

    def factory(database_url: str | None = None, **extra_env: str) -> AppServer:
        url = database_url or f"sqlite:///{tmp_path / 'e2e.db'}"
        server = start_app(tmp_path, database_url=url, extra_env=extra_env)
        servers.append(server)
        return server

    yield factory
    for s in servers:
        s.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for s in servers:
            sys.stderr.write(f"\n----- {s.url} log -----\n{s.log()[-6000:]}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture
def mysql_database_url() -> Iterator[str]:
    """A fresh, empty MySQL database on the server of AWSOME_TEST_MYSQL_URL, dropped afterwards."""
    from sqlalchemy.exc import SQLAlchemyError

    from awsome_core.storage.db import temporary_mysql_database

    base = os.environ.get("AWSOME_TEST_MYSQL_URL")
    if not base:
        skip_or_fail("AWSOME_TEST_MYSQL_URL is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    try:
        database = temporary_mysql_database(base, prefix="awsome_e2e")
        url = database.__enter__()
    except SQLAlchemyError as e:
        skip_or_fail(f"MySQL server of AWSOME_TEST_MYSQL_URL unreachable: {e}")
    try:
        yield url
    finally:
        database.__exit__(None, None, None)


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Fresh browser contexts (own cookies), each recording JS dialogs in ``page.dialogs``."""
    contexts: list[Any] = []

    def factory() -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        return page

    yield factory
    for ctx in contexts:
        ctx.close()
