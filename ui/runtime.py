"""Cached resources for the Streamlit process: settings, database sessions, error display."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import functools
import gc
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.config import Settings
from awsome_core.errors import AwsomeError
from awsome_core.music.starter import install_starter_catalog
from awsome_core.storage.db import make_engine, make_sessionmaker, session_scope, upgrade_database

logger = logging.getLogger(__name__)

GC_INTERVAL_S = 10.0  # a full collection this often, in the background (see bounded_gc)
# Python's automatic collections (gc.set_threshold): a young collection every GC_YOUNG allocations net of
# frees (Python's default: 700), the middle generation every GC_MIDDLE young ones (10); full ones are left
# to bounded_gc (GC_FULL_AFTER middle collections is never reached in its GC_INTERVAL_S).
GC_YOUNG, GC_MIDDLE, GC_FULL_AFTER = 5000, 20, 1000


@st.cache_resource
def bounded_gc() -> threading.Thread:
    """Replace Streamlit's full ``gc.collect()`` after every script run (``runner.postScriptGC``, off in
    .streamlit/config.toml: it took half of the server's CPU under load, docs/performance.md) with one full
    collection every GC_INTERVAL_S seconds in a daemon thread. The heap alive after start-up is frozen
    (``gc.freeze``) so that those collections walk only what sessions created since; memory stays bounded
    because cyclic garbage (script frames, reruns' exceptions holding images) lives at most that long, and
    glibc's ``malloc_trim`` then hands freed memory back (the script threads' malloc arenas keep it otherwise).
    Python's own collections run less often (:data:`GC_YOUNG`, :data:`GC_MIDDLE`, :data:`GC_FULL_AFTER`): a
    reading allocates many objects, nearly all freed by reference counting, and at Python's default
    thresholds the young and middle collections cost the server about as much as the timed full ones
    (docs/performance.md, "Seventh pass", counted with scripts/gc_count).
    Defined here, not in app.py: app.py runs on every rerun, and a cached function defined there is built
    again each time (its source read and tokenized)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, GC_MIDDLE, GC_FULL_AFTER)
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        trim = None

    def collect() -> None:
        while not threading.Event().wait(GC_INTERVAL_S):
            gc.collect()
            if trim is not None:
                trim(0)

    thread = threading.Thread(target=collect, daemon=True, name="awsome-gc")
    thread.start()
    return thread


PAGE_ICON = Path(__file__).resolve().parent / "static" / "awsome-icon.png"  # bundled: works offline (no font CDN)


@functools.cache
def page_icon_url() -> str:
    """The tab icon as a ``data:`` URL, read once per process. Streamlit sends such a URL as it is; given the
    file's path, ``st.set_page_config`` read, hashed and registered the file on every script run (2–3% of
    the server under load, docs/performance.md)."""
    return "data:image/png;base64," + base64.b64encode(PAGE_ICON.read_bytes()).decode("ascii")


def _secrets_mapping() -> dict[str, Any]:
    try:
        return dict(st.secrets.get("awsome", {}))
    except (FileNotFoundError, KeyError):  # no secrets.toml: defaults and environment only
        return {}
    except Exception:  # malformed secrets.toml
        logger.exception("could not read .streamlit/secrets.toml")
        return {}


@st.cache_resource
def configure_logging(level: str) -> None:
    """Configure logging once per process (not on every rerun) at *level* (``AWSOME_LOG_LEVEL``)."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aiortc", "aioice", "streamlit_webrtc"):  # they log every ICE candidate (IP addresses) at INFO
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # NOTE: spotipy logs request headers at DEBUG: the Basic auth of the client id and secret, the access token.
    logging.getLogger("spotipy").setLevel(max(logging.INFO, logging.getLogger().level))


@st.cache_resource
def get_settings() -> Settings:
    """Settings from the environment and ``[awsome]`` in secrets.toml (raises ConfigError when unsafe)."""
    return Settings.load(_secrets_mapping())


@st.cache_resource
def get_sessionmaker() -> sessionmaker[Session]:
    settings = get_settings()
    url = settings.effective_database_url
    if not settings.is_production:
        # Development convenience: a fresh checkout gets its schema without a separate step.
        # Production runs `alembic upgrade head` once in the container entrypoint.
        upgrade_database(url)
    maker = make_sessionmaker(make_engine(url))
    try:  # the packaged starter music catalog, once per database (idempotent; `awsome db upgrade` does it too)
        if settings.starter_catalog:
            install_starter_catalog(maker)
    except SQLAlchemyError:
        logger.warning("could not check the starter music catalog now; recommendations will add it", exc_info=True)
    return maker


def db_session() -> contextlib.AbstractContextManager[Session]:
    """A read session whose connection failures surface as :class:`StorageUnavailable` (``session_scope``).

    Writes go through :mod:`awsome_core.services`, which own their transactions.
    """
    return session_scope(get_sessionmaker())


@contextlib.contextmanager
def show_errors(what: str = "That") -> Iterator[None]:
    """Show an AwsomeError as a warning and anything else as a generic error: never a traceback."""
    try:
        yield
    except AwsomeError as e:
        st.warning(str(e))
    except Exception:
        logger.exception("unexpected error")
        st.error(f"{what} did not work because of an error on our side. It has been logged; please try again.")
