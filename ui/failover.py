"""What a user sees when the replica holding their tab goes away (docs/deploy.md, Sticky sessions).

* **The open tab reruns on the other replica by itself.** When its websocket reconnects (through the balancer,
  to another replica, i.e. to a new, empty session), Streamlit's frontend asks for a script run only if the
  last run was interrupted, or a fragment ran last, or the page holds a fragment with ``run_every``
  (``App.handleConnectionStateChanged`` in Streamlit 1.67's frontend). :func:`rerun_after_reconnect` puts
  such a fragment, which does nothing, in the sidebar of every signed-in page, so the reconnected tab reruns
  ``app.py`` at once: the new session signs the user in from the login cookie and shows the same page
  (the rerun names it). tests/e2e/test_replicas_e2e.py fails if the frontend stops doing so.
* **A signed-in deep link to a fresh replica lands on the linked page.** A fresh process serves ``/photo``
  by running ``pages/photo.py`` on its own (``ui.session.require_user`` then sends the run to ``app.py``,
  which knows nothing of ``/photo``): :func:`remember_requested_page` notes the path first and
  :func:`return_to_requested_page` switches to it once ``app.py`` has a signed-in user.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlparse

import streamlit as st
from streamlit.navigation.page import StreamlitPage

logger = logging.getLogger(__name__)

_RETURN_TO = "_awsome_return_to"
# Any interval marks the page; a long one costs one empty fragment run per session every few minutes.
PROBE_INTERVAL = timedelta(minutes=5)


@st.fragment(run_every=PROBE_INTERVAL)
def _reconnect_probe() -> None:
    """Empty on purpose: its ``run_every`` is what makes the frontend rerun after a reconnect."""


def rerun_after_reconnect() -> None:
    """Call on every signed-in run (inside the sidebar): see the module docstring."""
    _reconnect_probe()


def remember_requested_page() -> None:
    """Note the URL path of this run (e.g. ``photo``) before it is sent to ``app.py`` without a user."""
    try:
        path = urlparse(st.context.url or "").path.strip("/")
    except Exception:  # no request context (AppTest)
        path = ""
    if path:
        st.session_state[_RETURN_TO] = path.rsplit("/", 1)[-1]


def return_to_requested_page(pages: Sequence[StreamlitPage], current: StreamlitPage) -> None:
    """Once signed in, switch to the page :func:`remember_requested_page` noted (if it is one of *pages*)."""
    target = st.session_state.pop(_RETURN_TO, None)
    if not target or target == current.url_path:
        return
    page = next((p for p in pages if p.url_path == target), None)
    if page is not None:
        logger.info("returning to the requested page /%s after sign-in", target)
        st.switch_page(page)
