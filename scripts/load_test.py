"""Load test: concurrent users analysing photos and viewing their history on a real `streamlit run` + MySQL.

Run commands::

    .venv/bin/python scripts/load_test.py                               # 20 sessions for 60 s (AWSOME_TEST_MYSQL_URL)
    .venv/bin/python scripts/load_test.py --sessions 20 --duration 30   # CI's short mode (tests/e2e/test_load_e2e.py)
    .venv/bin/python scripts/load_test.py --mysql mysql+pymysql://root@127.0.0.1:3306/ --json load.json
    .venv/bin/python scripts/load_test.py --sessions 100 --replicas 2 --seed-catalog   # the deployment's two replicas

The script creates a throwaway MySQL database on the server (``--mysql``, default ``AWSOME_TEST_MYSQL_URL``),
migrates it, creates one account per session, starts ``streamlit run app.py`` on a free port, and drives every
session through Streamlit's own websocket protocol (``/_stcore/stream``, the protobuf ``BackMsg``/``ForwardMsg``
messages the browser sends and receives; uploads through ``/_stcore/upload_file`` as the browser does):

1. sign in on the Sign in page (the form, with the password);
2. loop until the time is up: open the Photo page (unless the session is still on it: a user who stays there
   drops the next picture into the same uploader), upload a photo (the astronaut, made unique per upload by
   a JPEG comment so that no cache answers), wait for the faces and the chart, press **Confirm this mood**
   (stores the reading and recommends music), and after every other reading (``--history-every``; 0: never,
   a user who stays on the Photo page) open the History page, whose "Readings" figure must equal the
   readings this session confirmed. Like a browser, the upload reruns only
   the fragment holding the uploader and Confirm only the one holding the button (ui/photo.py), unless
   ``--full-reruns``: the whole page, as this script did before issue #14's fragment work;
3. at the end, count each account's rows in ``mood_events``: every confirmed reading stored exactly once.

Any error or warning on a page, an exception, an unexpected page or a timeout counts as an error. It prints
the 50th/95th percentiles of the analysis round trip (upload start → faces shown), of the confirmation and of
the History view, the readings per second, and the server's peak resident memory (``VmHWM``); ``--json``
writes the same figures. The accounts are created with bcrypt cost 4 (sign-in is not what is measured).

What a reading costs the server (issue #14): ``server_cpu_ms_per_reading`` is the server process's CPU time
(user + system, ``/proc/PID/stat``) while the sessions ran, divided by the readings stored; it counts
everything a reading brings (Photo page, upload, analysis, confirmation with music, every other History view)
and is far less sensitive to other work on the machine than the latencies. ``analysis_core_ms`` is the
median CPU time of an in-process ``analyze_photo`` (decode + detect + classify) of the same upload, measured
by this script before the server starts; ``overhead_ratio`` is the first over the second. The server's
resident memory is sampled every ``--rss-every`` seconds (printed as it goes;
``rss_growth_after_first_minute_pct`` compares the peak after 60 s with the sample at 60 s: the soak check,
``--duration 600``). ``--count-sql`` counts the
server's database round trips (statements by verb, pings, commits, rollbacks, new connections) through a
``sitecustomize`` the server loads (``scripts/sql_count/``), per stored reading.

``--replicas 2`` drives the deployment's shape instead of one process: two replicas started through the
container entrypoint behind the nginx site of ``deploy/nginx`` (``scripts/local_stack.py``), each session pinned
to one replica by nginx's cookie (the client sends every cookie it was given, on the websocket too). One
Streamlit process computes on one core at a time (the GIL), so this is how a host with more cores serves more
users; the CPU figures are summed over the replicas, the memory figures are the larger replica's, and the CPU
of each replica is printed (how evenly nginx shared the sessions).

Why the websocket protocol and not 20 Chromium contexts: on this 2-core machine 20 headless Chromium pages
(React, Plotly, Spotify iframes) compete with the server for the same cores, so the figures would measure the
browsers; a protocol client costs a few milliseconds per message and is what the server sees from a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests
import websockets

# NOTE: only Streamlit's protobuf messages (the wire format), not the UI library: TID251 guards awsome_core.
from streamlit.proto.Alert_pb2 import Alert  # noqa: TID251
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo  # noqa: TID251
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLs, FileURLsRequest, UploadedFileInfo  # noqa: TID251
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: TID251
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates  # noqa: TID251

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from awsome_core import auth  # noqa: E402
from awsome_core.storage.db import make_engine, make_sessionmaker, temporary_mysql_database  # noqa: E402
from scripts.local_stack import stop_process, wait_for_http  # noqa: E402

logger = logging.getLogger("awsome.load")
PASSWORD = "load-test-password-1"
REQUEST_TIMEOUT_S = 120.0
HISTORY_EVERY = 2  # History after the 1st, 3rd, 5th ... reading
SQL_COUNT_SITE = PROJECT_ROOT / "scripts" / "sql_count"
nan = float("nan")


# ----------------------------------------------------------------------------- the protocol client


@dataclass
class PageRun:
    """What one finished script run showed: its elements ``(type, proto)`` and the page it ran."""

    page_hash: str
    elements: list[tuple[str, Any]]
    pages: dict[str, str]  # page name -> page_script_hash, from the navigation message
    fragments: dict[str, str] = field(default_factory=dict)  # widget id -> id of the fragment drawing it

    def fragment_of(self, widget_id: str) -> str:
        """The fragment a widget belongs to ("" outside any): what a browser sends when it is clicked."""
        return self.fragments.get(widget_id, "")

    def widget_id(self, kind: str, key_suffix: str) -> str | None:
        """Id of the *kind* widget whose key ends with *key_suffix* (ids are ``$$ID-<hash>-<key>``)."""
        return next((p.id for k, p in self.elements if k == kind and p.id.endswith(key_suffix)), None)

    def form_submit_id(self, label: str) -> str | None:
        return next(
            (p.id for k, p in self.elements if k == "button" and p.is_form_submitter and p.label == label), None
        )

    def alerts(self, *formats: int) -> list[str]:
        return [p.body for k, p in self.elements if k == "alert" and p.format in formats]

    def problems(self) -> list[str]:
        """Errors, warnings and exceptions shown on the page."""
        shown = [f"alert: {body}" for body in self.alerts(Alert.ERROR, Alert.WARNING)]
        return shown + [f"exception: {p.type}: {p.message}" for k, p in self.elements if k == "exception"]

    def metric(self, label: str) -> str | None:
        return next((p.body for k, p in self.elements if k == "metric" and p.label == label), None)


def cookie_header(jar: requests.cookies.RequestsCookieJar) -> str:
    """Every cookie the session was given, as a ``Cookie`` header: Streamlit's XSRF cookie, and behind nginx
    the replica cookie that pins the websocket to the replica holding the session's uploads."""
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class StreamlitClient:
    """One browser session, spoken over Streamlit's websocket protocol. Not thread-safe (one per task)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session_id = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}
        self._ws: Any = None
        self._http = requests.Session()
        self._xsrf = ""

    async def connect(self) -> PageRun:
        health = await asyncio.to_thread(self._http.get, self.base_url + "/_stcore/health", timeout=30)
        health.raise_for_status()
        self._xsrf = self._http.cookies.get("_streamlit_xsrf", "")
        ws_url = "ws" + self.base_url[4:] + "/_stcore/stream"
        self._ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit", self._xsrf],  # type: ignore[list-item]
            origin=self.base_url,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie_header(self._http.cookies)},
            max_size=64 * 1024 * 1024,
        )
        return await self.rerun("", [])

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        self._http.close()

    async def rerun(self, page_hash: str, widgets: list[WidgetState], fragment_id: str = "") -> PageRun:
        """Run the script as a browser would after a widget change; return the finished run.

        With *fragment_id* (a widget inside an ``st.fragment`` changed) only that fragment reruns, as the
        browser asks; the returned run then holds that fragment's elements only."""
        state = ClientState(
            query_string="",
            widget_states=WidgetStates(widgets=widgets),
            page_script_hash=page_hash,
            fragment_id=fragment_id,
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", url=self.base_url + "/"),
        )
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        return await asyncio.wait_for(self._until_finished(fragment=bool(fragment_id)), REQUEST_TIMEOUT_S)

    async def _until_finished(self, *, fragment: bool = False) -> PageRun:
        elements: list[tuple[str, Any]] = []
        fragments: dict[str, str] = {}
        done = (ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,) if fragment else (ForwardMsg.FINISHED_SUCCESSFULLY,)
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self._ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # every script run starts with one
                elements, fragments = [], {}
                self.page_hash = msg.new_session.page_script_hash
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                name = element.WhichOneof("type")
                proto = getattr(element, name)
                elements.append((name, proto))
                if msg.delta.fragment_id and getattr(proto, "id", ""):
                    fragments[proto.id] = msg.delta.fragment_id
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("the script did not compile")
                if msg.script_finished in done:
                    return PageRun(self.page_hash, elements, dict(self.pages), fragments)

    async def upload(self, uploader_id: str, name: str, data: bytes, mime: str) -> tuple[WidgetState, FileURLs]:
        """Upload *data* as the browser does; return the uploader's widget state and the file's URLs."""
        request_id = uuid.uuid4().hex
        request = FileURLsRequest(request_id=request_id, file_names=[name], session_id=self.session_id)
        await self._ws.send(BackMsg(file_urls_request=request).SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self._ws.recv(), REQUEST_TIMEOUT_S))
            if msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == request_id:
                break
        if msg.file_urls_response.error_msg:
            raise RuntimeError(f"upload refused: {msg.file_urls_response.error_msg}")
        urls = msg.file_urls_response.file_urls[0]
        response = await asyncio.to_thread(
            self._idempotent,
            "PUT",
            self._absolute(urls.upload_url),
            files={"file": (name, data, mime)},
            headers={"X-Xsrftoken": self._xsrf},
            timeout=REQUEST_TIMEOUT_S,
        )
        if response.status_code >= 300:
            raise RuntimeError(f"upload failed: HTTP {response.status_code} {response.text[:200]}")
        info = UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data), file_urls=urls)
        state = WidgetState(id=uploader_id, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info]))
        return state, urls

    async def delete_upload(self, urls: FileURLs) -> None:
        """Remove an uploaded file from the server, as the browser does when the file is replaced."""
        await asyncio.to_thread(
            self._idempotent, "DELETE", self._absolute(urls.delete_url), headers={"X-Xsrftoken": self._xsrf}, timeout=30
        )

    def _idempotent(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """An idempotent request, sent again once if the kept-alive connection was closed under it, as browsers
        do (the server closes idle keep-alive connections after a few seconds; a reuse can cross that)."""
        try:
            return self._http.request(method, url, **kwargs)
        except requests.ConnectionError:
            return self._http.request(method, url, **kwargs)

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else self.base_url + "/" + url.lstrip("/")


# ----------------------------------------------------------------------------- one simulated user


@dataclass
class SessionResult:
    username: str
    confirmed: int = 0
    analyses: list[float] = field(default_factory=list)
    confirms: list[float] = field(default_factory=list)
    histories: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OnPhoto:
    """A session on the Photo page: its last upload's URLs, and the uploader (id, fragment) to use again."""

    urls: FileURLs
    uploader: str
    fragment: str


def unique_photo(photo: bytes, tag: str) -> bytes:
    """The same JPEG with a comment segment (``FF FE``) after SOI: same pixels, different bytes."""
    comment = f"awsome load test {tag}".encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


async def run_session(
    base_url: str,
    username: str,
    photo: bytes,
    deadline: float,
    think_s: float,
    rng: random.Random,
    *,
    max_readings: int | None = None,
    full_reruns: bool = False,
    history_every: int = HISTORY_EVERY,
) -> SessionResult:
    """Sign in, then photo analyses, confirmations and history views until *deadline* (monotonic) or
    *max_readings* readings."""
    result = SessionResult(username)
    client = StreamlitClient(base_url)
    try:
        page = await client.connect()
        await _sign_in(client, page, username)
        on_photo: OnPhoto | None = None  # while the session is on the Photo page
        while time.monotonic() < deadline and (max_readings is None or result.confirmed < max_readings):
            tagged = unique_photo(photo, f"{username}-{result.confirmed}")
            on_photo = await _photo_round(client, result, tagged, on_photo, full_reruns=full_reruns)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
            if history_every and (result.confirmed - 1) % history_every == 0 and time.monotonic() < deadline:
                await _history_round(client, result)
                on_photo = None  # back to Photo through the sidebar: the page opens with an empty uploader
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
    except Exception as e:  # every failure is counted, never raised
        result.errors.append(f"{type(e).__name__}: {e}")
    finally:
        with contextlib.suppress(Exception):
            await client.close()
    return result


async def _sign_in(client: StreamlitClient, page: PageRun, username: str) -> None:
    user_id, pass_id = page.widget_id("text_input", "-login-username"), page.widget_id("text_input", "-login-password")
    submit = page.form_submit_id("Sign in")
    if not (user_id and pass_id and submit):
        raise RuntimeError(f"no sign-in form on the first page: {[k for k, _ in page.elements]}")
    widgets = [
        WidgetState(id=user_id, string_value=username),
        WidgetState(id=pass_id, string_value=PASSWORD),
        WidgetState(id=submit, trigger_value=True),
    ]
    page = await client.rerun(page.page_hash, widgets)
    if "Photo" not in page.pages:
        raise RuntimeError(f"sign-in failed: {page.problems() or page.alerts(Alert.WARNING)}")


async def _photo_round(
    client: StreamlitClient,
    result: SessionResult,
    photo: bytes,
    previous: OnPhoto | None,
    *,
    full_reruns: bool,
) -> OnPhoto:
    """One reading: open the Photo page unless this session is already on it (*previous*; None after a
    History view), upload, Confirm. Returns *previous* for the next round. A user who stays on the Photo page
    drops the next picture into the same uploader, as here."""
    photo_hash = client.pages["Photo"]
    if previous is None:
        page = await client.rerun(photo_hash, [])
        uploader = page.widget_id("file_uploader", "-photo-upload")
        if uploader is None:
            raise RuntimeError("no uploader on the Photo page")
        uploader_fragment = page.fragment_of(uploader)
    else:
        uploader, uploader_fragment = previous.uploader, previous.fragment
    start = time.monotonic()
    state, urls = await client.upload(uploader, "me.jpg", photo, "image/jpeg")
    if previous is not None:
        await client.delete_upload(previous.urls)
    # The uploader is in a fragment (ui/photo.py): the browser reruns that fragment; --full-reruns the page.
    page = await client.rerun(photo_hash, [state], "" if full_reruns else uploader_fragment)
    result.analyses.append(time.monotonic() - start)
    digest = hashlib.sha256(photo).hexdigest()[:16]
    confirm = page.widget_id("button", f"-confirm-{digest}-0")  # the first (only) face's Confirm
    if confirm is None or page.problems():
        raise RuntimeError(f"analysis did not show a face: {page.problems()}")
    start = time.monotonic()
    # The browser reruns only the fragment holding the button (the reading area, ui/photo.py); --full-reruns
    # reruns the whole page instead (how this script measured before issue #14's fragment work counted).
    fragment = "" if full_reruns else page.fragment_of(confirm)
    page = await client.rerun(photo_hash, [state, WidgetState(id=confirm, trigger_value=True)], fragment)
    result.confirms.append(time.monotonic() - start)
    if "Saved to your history." not in page.alerts(Alert.SUCCESS) or page.problems():
        raise RuntimeError(f"confirming did not save: {page.problems()}")
    result.confirmed += 1
    return OnPhoto(urls, uploader, uploader_fragment)


async def _history_round(client: StreamlitClient, result: SessionResult) -> None:
    start = time.monotonic()
    page = await client.rerun(client.pages["History"], [])
    result.histories.append(time.monotonic() - start)
    shown = page.metric("Readings")
    if page.problems() or shown != f"{result.confirmed:,}":
        raise RuntimeError(f"History shows {shown!r} readings, expected {result.confirmed}: {page.problems()}")


# ----------------------------------------------------------------------------- the run


@dataclass
class Report:
    sessions: int
    duration_s: float
    errors: list[str]
    confirmed: int
    stored: int
    duplicates: int
    mismatched_users: list[str]
    analysis_p50_s: float
    analysis_p95_s: float
    confirm_p50_s: float
    confirm_p95_s: float
    history_p50_s: float
    history_p95_s: float
    analyses: int
    history_views: int
    fewest_readings_in_a_session: int
    readings_per_s: float
    server_peak_rss_mb: float | None
    server_cpu_s: float = 0.0
    server_cpu_ms_per_reading: float = float("nan")
    analysis_core_ms: float = float("nan")
    overhead_ratio: float = float("nan")
    rss_samples_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the run, MB)
    rss_growth_after_first_minute_pct: float | None = None
    sql_per_reading: dict[str, float] = field(default_factory=dict)
    replicas: int = 1  # server processes (2: the deployment's replicas behind nginx; CPU summed, memory the larger)
    server_cpu_s_each: list[float] = field(default_factory=list)  # per server process: how the load was shared

    def last_line(self) -> str:
        """The one-line figure the issue asks for (``load: p50 … p95 … readings/s … cpu_ms_per_reading …``)."""
        peak = f"{self.server_peak_rss_mb:.0f}" if self.server_peak_rss_mb is not None else "n/a"
        return (
            f"load: p50 {self.analysis_p50_s:.2f} s p95 {self.analysis_p95_s:.2f} s "
            f"readings/s {self.readings_per_s:.2f} cpu_ms_per_reading {self.server_cpu_ms_per_reading:.0f} "
            f"analysis_core_ms {self.analysis_core_ms:.1f} overhead_ratio {self.overhead_ratio:.1f} "
            f"peak_mb {peak} errors {len(self.errors)} sessions {self.sessions}"
            + (f" replicas {self.replicas}" if self.replicas > 1 else "")
        )

    def summary(self) -> str:
        memory = f"{self.server_peak_rss_mb:.0f} MB" if self.server_peak_rss_mb is not None else "n/a"
        return (
            f"{self.sessions} sessions for {self.duration_s:.0f} s: {len(self.errors)} errors; "
            f"{self.confirmed} readings confirmed, {self.stored} stored, {self.duplicates} duplicates; "
            f"analysis round trip p50 {self.analysis_p50_s:.2f} s, p95 {self.analysis_p95_s:.2f} s "
            f"({self.analyses} analyses); confirm p50 {self.confirm_p50_s:.2f} s, p95 {self.confirm_p95_s:.2f} s; "
            f"history p50 {self.history_p50_s:.2f} s, p95 {self.history_p95_s:.2f} s ({self.history_views} views); "
            f"{self.readings_per_s:.2f} readings/s; server peak memory {memory}"
        )


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _astronaut_jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


async def drive(
    base_url: str,
    usernames: list[str],
    duration_s: float,
    think_s: float,
    *,
    full_reruns: bool = False,
    history_every: int = HISTORY_EVERY,
) -> list[SessionResult]:
    photo = _astronaut_jpeg()
    deadline = time.monotonic() + duration_s
    tasks = [
        run_session(
            base_url,
            name,
            photo,
            deadline,
            think_s,
            random.Random(i),
            full_reruns=full_reruns,
            history_every=history_every,
        )  # fmt: skip
        for i, name in enumerate(usernames)
    ]
    return list(await asyncio.gather(*tasks))


async def warm_up(base_url: str, username: str) -> SessionResult:
    """One reading and one History view by *username*, as a load session does them."""
    photo = _astronaut_jpeg()
    return await run_session(base_url, username, photo, time.monotonic() + 120, 0.0, random.Random(0), max_readings=1)


def create_users(database_url: str, count: int) -> list[str]:
    engine = make_engine(database_url)
    names = [f"load{i:03d}" for i in range(count)]
    with make_sessionmaker(engine)() as session:
        for name in names:
            auth.register_user(session=session, username=name, display_name=f"Load {name}", password=PASSWORD, rounds=4)
    engine.dispose()
    return names


def stored_counts(database_url: str) -> tuple[dict[str, int], int]:
    """Readings per username, and how many (user, client_event_id) pairs occur more than once."""
    from sqlalchemy import text

    engine = make_engine(database_url)
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT u.username, COUNT(e.id) FROM users u LEFT JOIN mood_events e ON e.user_id = u.id "
                "GROUP BY u.username"
            )
        ).all()
        duplicates = c.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT user_id, client_event_id FROM mood_events "
                "GROUP BY user_id, client_event_id HAVING COUNT(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    return {str(name): int(n) for name, n in rows}, int(duplicates)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def app_server(
    database_url: str, data_dir: Path, log_path: Path, sql_count_file: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run app.py`` on a free port against *database_url*; yields ``(url, process)``.

    With *sql_count_file*, the server loads ``scripts/sql_count/sitecustomize.py``, which keeps its database
    round-trip counts in that file."""
    port = _free_port()
    env: dict[str, str] = {
        **os.environ,
        "AWSOME_DATABASE_URL": database_url,
        "AWSOME_DATA_DIR": str(data_dir),
        "AWSOME_COOKIE_KEY": "load-test-cookie-key-" + uuid.uuid4().hex,
        "AWSOME_LOG_LEVEL": "WARNING",
    }
    if sql_count_file is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SQL_COUNT_SITE), os.environ.get("PYTHONPATH")]))
        env["AWSOME_SQL_COUNT_FILE"] = str(sql_count_file)
    command = [str(Path(sys.executable).parent / "streamlit"), "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/_stcore/health", timeout_s=90, process=process)
        except RuntimeError as e:
            raise RuntimeError(f"streamlit did not start: {e}\n{log_path.read_text()[-2000:]}") from e
        yield url, process
    finally:
        stop_process(process)


@dataclass
class Servers:
    """What the sessions drive: *url*, served by the processes *pids*; *warm_urls* reach each one directly."""

    url: str
    pids: list[int]
    warm_urls: list[str]
    log: Callable[[], str]


@contextlib.contextmanager
def servers(database_url: str, work_dir: Path, sql_count_file: Path | None, replicas: int) -> Iterator[Servers]:
    """One ``streamlit run`` (:func:`app_server`), or with *replicas* = 2 the deployment's two replicas behind
    nginx (``scripts/local_stack.py``: the container entrypoint, the sticky-cookie nginx site)."""
    if replicas == 1:
        log = work_dir / "streamlit.log"
        with app_server(database_url, work_dir / "data", log, sql_count_file) as (url, process):
            yield Servers(url, [process.pid], [url], lambda: log.read_text(errors="replace"))
        return
    if replicas != 2 or sql_count_file is not None:
        raise ValueError("--replicas is 1 or 2, and --count-sql needs one server")
    from scripts.local_stack import LocalStack

    extra = {"AWSOME_LOG_LEVEL": "WARNING", "AWSOME_COOKIE_KEY": "load-test-cookie-key-" + uuid.uuid4().hex}
    stack = LocalStack(
        database_url, work_dir / "stack", listen_port=_free_port(), replica_ports=(_free_port(), _free_port()),
        extra_env=extra,
    )  # fmt: skip
    with stack:
        members = list(stack.replicas.values())
        pids = [r.process.pid for r in members if r.process is not None]
        yield Servers(stack.url, pids, [r.url for r in members], lambda: stack.logs(tail_chars=1_000_000))


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (``VmHWM``), Linux only."""
    with contextlib.suppress(OSError, StopIteration):
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return None


def rss_mb(pid: int) -> float | None:
    """The process's current resident set size (``VmRSS``), Linux only."""
    with contextlib.suppress(OSError, StopIteration):
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time so far of the process, or of one of its threads (``/proc/PID[/task/TID]/stat``
    fields 14 and 15), Linux only."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def largest(measure: Callable[[int], float | None], pids: list[int]) -> float | None:
    """The largest of *measure* over *pids* (the larger replica's memory), None if none could be read."""
    return max((m for m in map(measure, pids) if m is not None), default=None)


class RssSampler(threading.Thread):
    """Samples the server's RSS every *every_s* seconds (and prints each sample) until stopped; with several
    server processes, the largest one's."""

    def __init__(self, pids: list[int], every_s: float) -> None:
        super().__init__(daemon=True)
        self.pids, self.every_s, self.samples = pids, every_s, list[tuple[float, float]]()
        self._stop_event = threading.Event()
        self._start = time.monotonic()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_s):
            mb = largest(rss_mb, self.pids)
            if mb is not None:
                t = time.monotonic() - self._start
                self.samples.append((round(t, 1), round(mb, 1)))
                print(f"rss {t:5.0f} s {mb:6.0f} MB", flush=True)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def growth_after_first_minute(samples: list[tuple[float, float]]) -> float | None:
    """Percent growth of the peak of the samples after 60 s over the sample at (or just after) 60 s."""
    later = [mb for t, mb in samples if t >= 60]
    if len(later) < 2:
        return None
    return 100.0 * (max(later) - later[0]) / later[0]


def analysis_core_ms(photo: bytes, repeats: int = 15) -> float:
    """Median CPU time of an in-process decode + detect + classify of *photo* (``analyze_photo``, the Photo
    page's call; the detector and the model run in the calling thread)."""
    from awsome_core.config import Settings
    from awsome_core.vision import get_classifier
    from awsome_core.vision.photo import analyze_photo
    from awsome_core.vision.threads import use_one_opencv_thread

    use_one_opencv_thread()  # as the server runs it: the whole analysis on this thread, counted by thread_time
    settings = Settings.load({})
    model = get_classifier(str(settings.model_path), tta=None)
    limit = settings.max_upload_mb * 1_000_000
    times = []
    for i in range(repeats + 2):
        start = time.thread_time()  # CPU time, as the server's figure: other work on the machine does not count
        analyze_photo(unique_photo(photo, f"core-{i}"), classifier=model, max_bytes=limit)
        if i >= 2:  # two warm-up runs
            times.append((time.thread_time() - start) * 1000)
    return float(np.median(times))


def _seed_catalog(database_url: str) -> None:
    """Import the starter catalog before the server starts (else the first recommendation imports it)."""
    from awsome_core.music.starter import ensure_starter_catalog

    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        ensure_starter_catalog(session=session)
    engine.dispose()


def _read_sql_counts(path: Path | None) -> dict[str, int]:
    if path is None:
        return {}
    with contextlib.suppress(OSError, ValueError):
        return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
    return {}


def run_load(
    mysql_server: str,
    *,
    sessions: int,
    duration_s: float,
    think_s: float,
    work_dir: Path,
    rss_every_s: float = 30.0,
    count_sql: bool = False,
    server_log_copy: Path | None = None,
    seed_catalog: bool = False,
    on_started: Callable[[int], None] | None = None,
    full_reruns: bool = False,
    replicas: int = 1,
    history_every: int = HISTORY_EVERY,
) -> Report:
    """The whole run: throwaway database, accounts, server, sessions, counts. Never raises for app errors.

    *on_started* is called with the (first) server process's pid once it answers, just before the sessions
    start (the profiler attaches there).
    """
    from awsome_core.storage.db import upgrade_database

    core_ms = analysis_core_ms(_astronaut_jpeg())
    sql_file = work_dir / "sql_counts.json" if count_sql else None
    with temporary_mysql_database(mysql_server, prefix="awsome_load") as database_url:
        upgrade_database(database_url)
        if seed_catalog:
            _seed_catalog(database_url)
        usernames = create_users(database_url, sessions + replicas)
        warm_users, usernames = usernames[sessions:], usernames[:sessions]
        with servers(database_url, work_dir, sql_file, replicas) as target:
            # One user's round (sign-in, Photo, analysis, confirm, History) on each server process first: the
            # first script runs import the UI's modules and load the models, which is start-up, not what a
            # reading costs.
            warm = [asyncio.run(warm_up(url, user)) for url, user in zip(target.warm_urls, warm_users, strict=True)]
            if on_started is not None:
                on_started(target.pids[0])
            sampler = RssSampler(target.pids, rss_every_s)
            sql_before = _read_sql_counts(sql_file)
            cpu_before, started = [cpu_seconds(pid) for pid in target.pids], time.monotonic()
            sampler.start()
            results = asyncio.run(
                drive(target.url, usernames, duration_s, think_s, full_reruns=full_reruns, history_every=history_every)
            )
            elapsed = time.monotonic() - started
            cpu_each = [cpu_seconds(pid) - before for pid, before in zip(target.pids, cpu_before, strict=True)]
            cpu_used = sum(cpu_each)
            sampler.stop()
            time.sleep(2.5 if sql_file else 0)  # the server writes its counts every 2 s
            sql_after = _read_sql_counts(sql_file)
            peak = largest(peak_rss_mb, target.pids)
            server_log = target.log()
            if server_log_copy is not None:
                server_log_copy.write_text(server_log)
        counts, duplicates = stored_counts(database_url)
        for user in warm_users:
            counts.pop(user, None)
    errors = [f"{r.username}: {e}" for r in [*warm, *results] for e in r.errors]
    errors += [f"server log: {line}" for line in server_log.splitlines() if "Traceback" in line or " ERROR " in line]
    mismatched = [r.username for r in results if counts.get(r.username, 0) != r.confirmed]
    analyses = [t for r in results for t in r.analyses]
    confirms = [t for r in results for t in r.confirms]
    histories = [t for r in results for t in r.histories]
    confirmed = sum(r.confirmed for r in results)
    stored = sum(counts.values())
    return Report(
        sessions=sessions,
        duration_s=elapsed,
        errors=errors,
        confirmed=confirmed,
        stored=stored,
        duplicates=duplicates,
        mismatched_users=mismatched,
        analysis_p50_s=_percentile(analyses, 50),
        analysis_p95_s=_percentile(analyses, 95),
        confirm_p50_s=_percentile(confirms, 50),
        confirm_p95_s=_percentile(confirms, 95),
        history_p50_s=_percentile(histories, 50),
        history_p95_s=_percentile(histories, 95),
        analyses=len(analyses),
        history_views=len(histories),
        fewest_readings_in_a_session=min((r.confirmed for r in results), default=0),
        readings_per_s=confirmed / elapsed if elapsed else 0.0,
        server_peak_rss_mb=peak,
        server_cpu_s=round(cpu_used, 2),
        server_cpu_ms_per_reading=round(1000 * cpu_used / stored, 1) if stored else nan,
        analysis_core_ms=round(core_ms, 2),
        overhead_ratio=round(1000 * cpu_used / stored / core_ms, 2) if stored else nan,
        rss_samples_mb=sampler.samples,
        rss_growth_after_first_minute_pct=growth_after_first_minute(sampler.samples),
        replicas=replicas,
        server_cpu_s_each=[round(c, 2) for c in cpu_each],
        sql_per_reading={
            k: round((sql_after.get(k, 0) - sql_before.get(k, 0)) / stored, 2) for k in sql_after if stored
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after sign-in starts")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, seconds")
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--rss-every", type=float, default=30.0, help="seconds between RSS samples")
    parser.add_argument("--count-sql", action="store_true", help="count the server's database round trips")
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    parser.add_argument("--seed-catalog", action="store_true", help="import the music catalog before the run")
    parser.add_argument(
        "--replicas", type=int, choices=(1, 2), default=1,
        help="server processes: 2 runs the deployment's two replicas behind nginx (scripts/local_stack.py)",
    )  # fmt: skip
    parser.add_argument(
        "--history-every", type=int, default=HISTORY_EVERY,
        help="a History view after every N-th reading (from the first; 0: never, a user who stays on Photo)",
    )  # fmt: skip
    parser.add_argument(
        "--full-reruns", action="store_true", help="Confirm reruns the whole page (default: its fragment, as a browser)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    with tempfile.TemporaryDirectory(prefix="awsome-load-") as tmp:
        report = run_load(
            args.mysql,
            sessions=args.sessions,
            duration_s=args.duration,
            think_s=args.think,
            work_dir=Path(tmp),
            rss_every_s=args.rss_every,
            count_sql=args.count_sql,
            server_log_copy=args.server_log,
            seed_catalog=args.seed_catalog,
            full_reruns=args.full_reruns,
            replicas=args.replicas,
            history_every=args.history_every,
        )
    print(report.summary())
    for error in report.errors[:20]:
        print(f"  error: {error}")
    if report.sql_per_reading:
        print("database round trips per reading: " + ", ".join(f"{k} {v}" for k, v in report.sql_per_reading.items()))
    if report.rss_growth_after_first_minute_pct is not None:
        print(f"rss growth after the first minute: {report.rss_growth_after_first_minute_pct:+.1f}%")
    if report.replicas > 1:
        print("server CPU seconds by replica: " + ", ".join(f"{c:.1f}" for c in report.server_cpu_s_each))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    print(report.last_line())
    ok = not report.errors and not report.duplicates and not report.mismatched_users and report.confirmed > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
