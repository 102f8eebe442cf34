"""MariaDB going away in the middle of a session (issue #7, item 2).

The shared MariaDB server is never stopped (other suites use it at the same time): the app reaches its
throwaway database through :class:`TcpProxy`, a small TCP proxy this test owns. ``cut()`` closes its port
and every open connection (the server is gone, mid-session); ``hang()`` accepts connections and never
answers (a server that is up but stuck); ``restore()`` listens on the same port again.

Checked: the engine fails fast with :class:`StorageUnavailable` and recovers without a restart (pool
pre-ping); a stuck server fails within the read timeout instead of hanging; and the real pages, under
Streamlit's AppTest, say "history is unavailable right now" instead of a traceback, keep the reading the
user just confirmed, and write it exactly once when the database is back.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.emotions import EMOTIONS
from awsome_core.errors import StorageUnavailable
from awsome_core.storage import repository
from awsome_core.storage.db import check_database, make_engine, make_sessionmaker, upgrade_database
from tests.conftest import PROJECT_ROOT, music_cards
from tests.integration.conftest import require_mysql_server, throwaway_mysql_database

pytestmark = pytest.mark.mysql

APP = PROJECT_ROOT / "app.py"


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to *target*; :meth:`cut`, :meth:`hang` and :meth:`restore` it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "forward"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.restore()

    def restore(self, mode: str = "forward") -> None:
        """Listen again (same port); ``mode="hang"`` accepts connections but never forwards a byte."""
        self.close()
        self.mode = mode
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def hang(self) -> None:
        self.restore("hang")

    def cut(self) -> None:
        """The server is gone: the port is closed and every open connection is dropped."""
        self.close()

    def close(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for s in ([listener] if listener else []) + list(sockets):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()/restore()
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    return
                self._sockets.add(client)
            if self.mode == "forward":
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.add(upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def outage_db(mysql_server: tuple[URL | None, str]) -> Iterator[tuple[TcpProxy, str, str]]:
    """``(proxy, direct_url, proxied_url)`` of a migrated throwaway database on the shared MariaDB."""
    with throwaway_mysql_database(require_mysql_server(mysql_server)) as direct:
        upgrade_database(direct)
        url = make_url(direct)
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
        try:
            yield proxy, direct, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        finally:
            proxy.close()


def _report(report_figure: Callable[[str], None], line: str) -> None:
    report_figure(f"[outage] {line}")


def _count(direct_url: str, sql: str) -> int:
    engine = create_engine(direct_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- the library


def test_engine_fails_fast_while_down_and_recovers_without_a_restart(
    outage_db, report_figure: Callable[[str], None]
) -> None:
    proxy, direct, proxied = outage_db
    engine = make_engine(proxied)
    maker = make_sessionmaker(engine)
    with maker() as session:  # a pooled connection exists from now on
        user = auth.register_user(session=session, username="alice", display_name="A", password="x-y-z-12345", rounds=4)
    proxy.cut()
    start = time.monotonic()
    with pytest.raises(StorageUnavailable, match="unavailable right now"):
        check_database(engine)
    refused_s = time.monotonic() - start
    assert refused_s < 2.0  # a closed port is refused at once: no hang
    with maker() as session, pytest.raises(OperationalError):
        repository.count_mood_events(session=session, user_id=user.id)

    proxy.restore()
    start = time.monotonic()
    check_database(engine)  # the same engine: pre-ping threw the dead connections away
    _report(
        report_figure,
        f"closed port refused in {refused_s * 1000:.0f} ms; back {1000 * (time.monotonic() - start):.0f} ms after",
    )
    with maker() as session:
        event = repository.add_mood_event(
            session=session,
            user_id=user.id,
            probabilities=dict.fromkeys(EMOTIONS, 1 / 7),
            source="photo",
            model_version="t",
            client_event_id="kept-1",
        )
        session.commit()
        assert repository.count_mood_events(session=session, user_id=user.id) == 1
    assert event.id > 0
    engine.dispose()


def test_a_stuck_server_fails_within_the_read_timeout_instead_of_hanging(
    outage_db, report_figure: Callable[[str], None]
) -> None:
    proxy, _, proxied = outage_db
    proxy.hang()  # accepts the connection, never sends the handshake
    engine = make_engine(proxied, read_timeout_s=2)
    start = time.monotonic()
    with pytest.raises(StorageUnavailable):
        check_database(engine)
    failed_s = time.monotonic() - start
    assert failed_s < 6.0
    _report(report_figure, f"stuck server (2 s read timeout) failed after {failed_s:.1f} s")
    engine.dispose()


def test_engine_is_pooled_with_pre_ping_and_timeouts(outage_db) -> None:
    _, _, proxied = outage_db
    engine = make_engine(proxied)
    assert engine.pool._pre_ping is True  # type: ignore[attr-defined]
    assert engine.pool._timeout == 10  # type: ignore[attr-defined]  # wait for a pooled connection
    with engine.connect() as connection:
        timeouts = connection.connection.dbapi_connection  # type: ignore[union-attr]
        assert (timeouts.connect_timeout, timeouts._read_timeout, timeouts._write_timeout) == (5, 15, 15)
    engine.dispose()


# ----------------------------------------------------------------------------- the pages


def _astronaut_jpeg() -> bytes:
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _texts(at: AppTest) -> list[str]:
    return [w.value for w in at.warning] + [e.value for e in at.error]


def _signed_in_app(proxied: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("AWSOME_DATABASE_URL", proxied)
    monkeypatch.setenv("AWSOME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AWSOME_ENV", "development")
    engine = make_engine(proxied)
    with make_sessionmaker(engine)() as session:
        user = auth.register_user(
            session=session, username="dora", display_name="Dora", password="correct-horse-battery", rounds=4
        )
    engine.dispose()
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in {"authentication_status": True, "user_id": user.id, "username": "dora", "name": "Dora"}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def test_pages_during_an_outage_keep_the_reading_and_write_it_once(
    outage_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    import streamlit_webrtc.component

    st.cache_resource.clear()  # settings and the engine are cached per process: this test's own
    st.cache_data.clear()
    # The default page is the Live camera; streamlit-webrtc asks AppTest's mocked runtime for the session
    # (see tests/app/conftest.py).
    monkeypatch.setattr(streamlit_webrtc.component, "get_this_session_info", lambda: None)
    proxy, direct, proxied = outage_db
    at = _signed_in_app(proxied, tmp_path, monkeypatch)

    at.switch_page("app_pages/photo.py").run()
    at.file_uploader(key="photo-upload").set_value(("me.jpg", _astronaut_jpeg(), "image/jpeg")).run()
    assert not at.exception
    confirm = next(b for b in at.button if b.key and b.key.startswith("confirm-"))

    proxy.cut()  # MariaDB is gone in the middle of the session
    confirm.click().run()
    assert not at.exception
    assert any("Your reading is kept" in t for t in _texts(at)), _texts(at)
    assert _count(direct, "SELECT COUNT(*) FROM mood_events") == 0
    at.run()  # any rerun while down: still kept, still said, no traceback
    assert not at.exception and any("Your reading is kept" in t for t in _texts(at))

    proxy.restore()
    time.sleep(2.1)  # ui.mood retries at most every 2 s while the database is down
    at.run()  # the next script run writes it
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved to your history."], _texts(at)
    assert any("kept reading saved" in t.value for t in at.toast)
    assert music_cards(at)  # and its music is shown
    assert confirm.key not in {b.key for b in at.button}  # stored: no second Confirm (corrections save on change)
    at.run()  # a rerun writes nothing again
    assert _count(direct, "SELECT COUNT(*) FROM mood_events") == 1

    proxy.cut()
    at.switch_page("app_pages/history.py").run()
    assert not at.exception
    assert any("history is unavailable right now" in t for t in _texts(at)), _texts(at)
    at.switch_page("app_pages/account.py").run()
    assert not at.exception
    assert any("database is unavailable right now" in t for t in _texts(at)), _texts(at)

    proxy.restore()
    at.switch_page("app_pages/history.py").run()  # recovers without a restart of the app
    assert not at.exception
    assert not _texts(at)
    assert [m.value for m in at.metric][:1] == ["1"]  # "Readings": the kept one, once
    assert _count(direct, "SELECT COUNT(*) FROM mood_events") == 1
