"""AWSome: the Streamlit entry point. Settings, logging, authentication and routing; nothing else."""

# ruff: noqa: E402  (the first-run navigation guard below must run before the slow imports)
from __future__ import annotations

import ctypes
import gc
import threading
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager

# NOTE: the first script run of a server process, while a pages/ folder exists, Streamlit itself shows every
# pages/*.py file name in the sidebar (its old "pages directory" mode) until app.py's st.navigation replaces
# them, after ~2 s of imports. A hidden navigation over the same files replaces them at once. The flag is
# Streamlit's internal; tests/unit/test_streamlit_internals.py fails when it changes.
if PagesManager.uses_pages_directory:
    pages_dir = Path(__file__).resolve().parent / "pages"
    st.navigation([st.Page(str(p)) for p in sorted(pages_dir.glob("[a-z]*.py"))], position="hidden")

from awsome_core.errors import AwsomeError
from awsome_core.text import escape_markdown
from ui.failover import rerun_after_reconnect, return_to_requested_page
from ui.runtime import configure_logging, get_settings, page_icon_url
from ui.session import current_user_id, sign_out, sync_login_state
from ui.signup import show_welcome
from ui.widget_memory import drop_stale_widget_metadata

GC_INTERVAL_S = 10.0  # a full collection this often, in the background (see _bounded_gc)


@st.cache_resource
def _bounded_gc() -> threading.Thread:
    """Replace Streamlit's full ``gc.collect()`` after every script run (``runner.postScriptGC``, off in
    .streamlit/config.toml: it took half of the server's CPU under load, docs/performance.md) with one full
    collection every GC_INTERVAL_S seconds in a daemon thread. The heap alive after start-up is frozen
    (``gc.freeze``) so that those collections walk only what sessions created since; memory stays bounded
    because cyclic garbage (script frames, reruns' exceptions holding images) lives at most that long, and
    glibc's ``malloc_trim`` then hands freed memory back (the script threads' malloc arenas keep it otherwise)."""
    gc.collect()
    gc.freeze()
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


st.set_page_config(page_title="AWSome", page_icon=page_icon_url(), layout="wide")  # the bundled icon
_bounded_gc()
drop_stale_widget_metadata()  # Streamlit keeps gone widgets' metadata (and what it holds) otherwise

try:
    settings = get_settings()
    configure_logging(settings.log_level)
    sync_login_state()
except AwsomeError as e:  # unsafe configuration or database down: say so, never a traceback
    st.error(str(e))
    st.stop()


def _pages(signed_in: bool) -> list[StreamlitPage]:
    """The page set, built once per session and sign-in state: ``st.Page`` resolves its file's real path,
    which cost a few percent of the server under load when done on every run. Kept in the session, never
    shared between sessions: ``st.navigation`` marks the chosen page object runnable for its run."""
    key = "_awsome_pages_in" if signed_in else "_awsome_pages_out"
    pages: list[StreamlitPage] | None = st.session_state.get(key)
    if pages is None:
        if not signed_in:
            pages = [st.Page("pages/login.py", title="Sign in", icon=":material/login:", default=True)]
        else:
            pages = [
                st.Page("pages/live.py", title="Live camera", icon=":material/videocam:", default=True),
                st.Page("pages/photo.py", title="Photo", icon=":material/photo_camera:"),
                st.Page("pages/history.py", title="History", icon=":material/insights:"),
                st.Page("pages/account.py", title="Account", icon=":material/person:"),
                st.Page("pages/about.py", title="About", icon=":material/info:"),
            ]
        st.session_state[key] = pages
    return pages


pages = _pages(current_user_id() is not None)
if current_user_id() is not None:
    with st.sidebar:
        st.markdown(f"Signed in as **{escape_markdown(st.session_state.get('name') or '')}**")
        if st.button("Sign out", key="sign-out", icon=":material/logout:"):
            sign_out()
            st.rerun()
        rerun_after_reconnect()  # a tab whose replica went away reruns on the next one by itself

page = st.navigation(pages)
if current_user_id() is not None:
    return_to_requested_page(pages, page)  # a deep link that went through sign-in
    show_welcome(page.title)
page.run()
