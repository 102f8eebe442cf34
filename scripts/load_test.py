"""Load test: concurrent users analysing photos and viewing their history on a real `streamlit run` + MySQL.

Run commands::

    .venv/bin/python scripts/load_test.py                               # 20 sessions for 60 s (AWSOME_TEST_MYSQL_URL)
    .venv/bin/python scripts/load_test.py --sessions 20 --duration 30   # CI's short mode (tests/e2e/test_load_e2e.py)
    .venv/bin/python scripts/load_test.py --mysql mysql+pymysql://root@127.0.0.1:3306/ --json load.json

The script creates a throwaway MySQL database on the server (``--mysql``, default ``AWSOME_TEST_MYSQL_URL``),
migrates it, creates one account per session, starts ``streamlit run app.py`` on a free port, and drives every
session through Streamlit's own websocket protocol (``/_stcore/stream``, the protobuf ``BackMsg``/``ForwardMsg``
messages the browser sends and receives; uploads through ``/_stcore/upload_file`` as the browser does):

1. sign in on the Sign in page (the form, with the password);
2. loop until the time is up: open the Photo page, upload a photo (the astronaut, made unique per upload by a
   JPEG comment so that no cache answers), wait for the faces and the chart, press **Confirm this mood**
   (stores the reading and recommends music), and after every other reading open the History page, whose
   "Readings" figure must equal the readings this session confirmed;
3. at the end, count each account's rows in ``mood_events``: every confirmed reading stored exactly once.

Any error or warning on a page, an exception, an unexpected page or a timeout counts as an error. It prints
the 50th/95th percentiles of the analysis round trip (upload start → faces shown), of the confirmation and of
the History view, the readings per second, and the server's peak resident memory (``VmHWM``); ``--json``
writes the same figures. The accounts are created with bcrypt cost 4 (sign-in is not what is measured).

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
import time
import uuid
from collections.abc import Iterator
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


# ----------------------------------------------------------------------------- the protocol client


@dataclass
class PageRun:
    """What one finished script run showed: its elements ``(type, proto)`` and the page it ran."""

    page_hash: str
    elements: list[tuple[str, Any]]
    pages: dict[str, str]  # page name -> page_script_hash, from the navigation message

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
            additional_headers={"Cookie": f"_streamlit_xsrf={self._xsrf}"},
            max_size=64 * 1024 * 1024,
        )
        return await self.rerun("", [])

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        self._http.close()

    async def rerun(self, page_hash: str, widgets: list[WidgetState]) -> PageRun:
        """Run the script as a browser would after a widget change; return the finished run."""
        state = ClientState(
            query_string="",
            widget_states=WidgetStates(widgets=widgets),
            page_script_hash=page_hash,
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", url=self.base_url + "/"),
        )
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        return await asyncio.wait_for(self._until_finished(), REQUEST_TIMEOUT_S)

    async def _until_finished(self) -> PageRun:
        elements: list[tuple[str, Any]] = []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self._ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # every script run starts with one
                elements = []
                self.page_hash = msg.new_session.page_script_hash
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                name = element.WhichOneof("type")
                elements.append((name, getattr(element, name)))
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("the script did not compile")
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return PageRun(self.page_hash, elements, dict(self.pages))

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
            self._http.put,
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
            self._http.delete, self._absolute(urls.delete_url), headers={"X-Xsrftoken": self._xsrf}, timeout=30
        )

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


def unique_photo(photo: bytes, tag: str) -> bytes:
    """The same JPEG with a comment segment (``FF FE``) after SOI: same pixels, different bytes."""
    comment = f"awsome load test {tag}".encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


async def run_session(
    base_url: str, username: str, photo: bytes, deadline: float, think_s: float, rng: random.Random
) -> SessionResult:
    """Sign in, then photo analyses, confirmations and history views until *deadline* (monotonic)."""
    result = SessionResult(username)
    client = StreamlitClient(base_url)
    try:
        page = await client.connect()
        await _sign_in(client, page, username)
        urls: FileURLs | None = None
        while time.monotonic() < deadline:
            urls = await _photo_round(client, result, unique_photo(photo, f"{username}-{result.confirmed}"), urls)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
            if result.confirmed % HISTORY_EVERY == 1 and time.monotonic() < deadline:
                await _history_round(client, result)
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
    client: StreamlitClient, result: SessionResult, photo: bytes, previous: FileURLs | None
) -> FileURLs:
    photo_hash = client.pages["Photo"]
    page = await client.rerun(photo_hash, [])
    uploader = page.widget_id("file_uploader", "-photo-upload")
    if uploader is None:
        raise RuntimeError("no uploader on the Photo page")
    start = time.monotonic()
    state, urls = await client.upload(uploader, "me.jpg", photo, "image/jpeg")
    if previous is not None:
        await client.delete_upload(previous)
    page = await client.rerun(photo_hash, [state])
    result.analyses.append(time.monotonic() - start)
    digest = hashlib.sha256(photo).hexdigest()[:16]
    confirm = page.widget_id("button", f"-confirm-{digest}")
    if confirm is None or page.problems():
        raise RuntimeError(f"analysis did not show a face: {page.problems()}")
    start = time.monotonic()
    page = await client.rerun(photo_hash, [state, WidgetState(id=confirm, trigger_value=True)])
    result.confirms.append(time.monotonic() - start)
    if "Saved to your history." not in page.alerts(Alert.SUCCESS) or page.problems():
        raise RuntimeError(f"confirming did not save: {page.problems()}")
    result.confirmed += 1
    return urls


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


async def drive(base_url: str, usernames: list[str], duration_s: float, think_s: float) -> list[SessionResult]:
    photo = _astronaut_jpeg()
    deadline = time.monotonic() + duration_s
    tasks = [
        run_session(base_url, name, photo, deadline, think_s, random.Random(i)) for i, name in enumerate(usernames)
    ]
    return list(await asyncio.gather(*tasks))


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
def app_server(database_url: str, data_dir: Path, log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run app.py`` on a free port against *database_url*; yields ``(url, process)``."""
    port = _free_port()
    env = {
        **os.environ,
        "AWSOME_DATABASE_URL": database_url,
        "AWSOME_DATA_DIR": str(data_dir),
        "AWSOME_COOKIE_KEY": "load-test-cookie-key-" + uuid.uuid4().hex,
        "AWSOME_LOG_LEVEL": "WARNING",
    }
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


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (``VmHWM``), Linux only."""
    with contextlib.suppress(OSError, StopIteration):
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return None


def run_load(mysql_server: str, *, sessions: int, duration_s: float, think_s: float, work_dir: Path) -> Report:
    """The whole run: throwaway database, accounts, server, sessions, counts. Never raises for app errors."""
    from awsome_core.storage.db import upgrade_database

    with temporary_mysql_database(mysql_server, prefix="awsome_load") as database_url:
        upgrade_database(database_url)
        usernames = create_users(database_url, sessions)
        with app_server(database_url, work_dir / "data", work_dir / "streamlit.log") as (url, process):
            started = time.monotonic()
            results = asyncio.run(drive(url, usernames, duration_s, think_s))
            elapsed = time.monotonic() - started
            peak = peak_rss_mb(process.pid)
            server_log = (work_dir / "streamlit.log").read_text(errors="replace")
        counts, duplicates = stored_counts(database_url)
    errors = [f"{r.username}: {e}" for r in results for e in r.errors]
    errors += [f"server log: {line}" for line in server_log.splitlines() if "Traceback" in line or " ERROR " in line]
    mismatched = [r.username for r in results if counts.get(r.username, 0) != r.confirmed]
    analyses = [t for r in results for t in r.analyses]
    confirms = [t for r in results for t in r.confirms]
    histories = [t for r in results for t in r.histories]
    confirmed = sum(r.confirmed for r in results)
    return Report(
        sessions=sessions,
        duration_s=elapsed,
        errors=errors,
        confirmed=confirmed,
        stored=sum(counts.values()),
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
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after sign-in starts")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, seconds")
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    with tempfile.TemporaryDirectory(prefix="awsome-load-") as tmp:
        report = run_load(
            args.mysql, sessions=args.sessions, duration_s=args.duration, think_s=args.think, work_dir=Path(tmp)
        )
    print(report.summary())
    for error in report.errors[:20]:
        print(f"  error: {error}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    ok = not report.errors and not report.duplicates and not report.mismatched_users and report.confirmed > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
