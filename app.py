"""AWSome: the Streamlit entry point. Settings, logging, authentication and routing; nothing else."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from awsome_core.errors import AwsomeError
from awsome_core.text import escape_markdown
from awsome_core.vision import use_one_opencv_thread
from ui.failover import rerun_after_reconnect
from ui.login import show_sign_in
from ui.runtime import bounded_gc, configure_logging, get_settings, page_icon_url
from ui.session import current_user_id, sign_out, sync_login_state
from ui.signup import show_welcome
from ui.theme_once import build_theme_once
from ui.widget_memory import drop_stale_widget_metadata

st.set_page_config(page_title="AWSome", page_icon=page_icon_url(), layout="wide")  # the bundled icon
bounded_gc()  # replaces Streamlit's gc.collect() after every run (ui/runtime.py)
use_one_opencv_thread()  # idempotent, one C call: OpenCV without a thread pool of its own
build_theme_once()  # the theme of each run's NewSession message built once per process (ui/theme_once.py)
drop_stale_widget_metadata()  # Streamlit keeps gone widgets' metadata (and what it holds) otherwise


def _pages() -> list[StreamlitPage]:
    """The page set, built once per session: ``st.Page`` resolves its file's real path, which cost a few
    percent of the server under load when done on every run. Kept in the session, never shared between
    sessions: ``st.navigation`` marks the chosen page object runnable for its run.

    The pages live in app_pages/, not pages/: with a pages/ folder beside app.py, Streamlit runs a fresh
    process's first session in its old "pages directory" mode (file names in the sidebar, a deep link runs
    the page file without app.py, a reconnected tab lands on the default page first; docs/deploy.md).
    tests/unit/test_streamlit_internals.py keeps the folder from coming back."""
    pages: list[StreamlitPage] | None = st.session_state.get("_awsome_pages")
    if pages is None:
        pages = [
            st.Page("app_pages/live.py", title="Live camera", icon=":material/videocam:", default=True),
            st.Page("app_pages/photo.py", title="Photo", icon=":material/photo_camera:"),
            st.Page("app_pages/history.py", title="History", icon=":material/insights:"),
            st.Page("app_pages/account.py", title="Account", icon=":material/person:"),
            st.Page("app_pages/about.py", title="About", icon=":material/info:"),
        ]
        st.session_state["_awsome_pages"] = pages
    return pages


# The URL's page is resolved first, hidden, before anything can end this run early: the login cookie's
# component reports back with a rerun, and a run that stops before st.navigation loses the page a deep link
# or a reconnected tab named (the rerun asks for whatever page the browser was last told).
page = st.navigation(_pages(), position="hidden")

try:
    settings = get_settings()
    configure_logging(settings.log_level)
    sync_login_state()
except AwsomeError as e:  # unsafe configuration or database down: say so, never a traceback
    st.error(str(e))
    st.stop()

if current_user_id() is None:
    # Signed out, every URL (a deep link, a reload, a tab reconnected to another replica) shows Sign in in
    # place of its page and keeps the URL: the rerun after signing in runs the page it names.
    show_sign_in()
    st.stop()

with st.sidebar:
    st.markdown(f"Signed in as **{escape_markdown(st.session_state.get('name') or '')}**")
    if st.button("Sign out", key="sign-out", icon=":material/logout:"):
        sign_out()
        st.rerun()
    rerun_after_reconnect()  # a tab whose replica went away reruns on the next one by itself

page = st.navigation(_pages())  # the same pages and page, now listed in the sidebar
show_welcome(page.title)
page.run()
