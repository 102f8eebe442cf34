"""What a user sees when the replica holding their tab goes away (docs/deploy.md, Sticky sessions).

* **The open tab reruns on the other replica by itself.** When its websocket reconnects (through the balancer,
  to another replica, i.e. to a new, empty session), Streamlit's frontend asks for a script run only if the
  last run was interrupted, or a fragment ran last, or the page holds a fragment with ``run_every``
  (``App.handleConnectionStateChanged`` in Streamlit 1.67's frontend). :func:`rerun_after_reconnect` puts
  such a fragment, which does nothing, in the sidebar of every signed-in page, so the reconnected tab reruns
  ``app.py`` at once: the new session signs the user in from the login cookie and shows the same page
  (the rerun names it). tests/e2e/test_replicas_e2e.py fails if the frontend stops doing so.
* **A signed-in deep link to a fresh replica lands on the linked page**, and so does the reconnected tab:
  every URL runs ``app.py``, which signs the session in from the cookie (read from the websocket's request,
  no extra run) before ``st.navigation`` resolves the URL's page. That holds because the pages live in
  ``app_pages/``: a ``pages/`` folder beside app.py would make a fresh process run its first session in
  Streamlit's old "pages directory" mode, where the reconnected tab first went to the default page.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

# Any interval marks the page; a long one costs one empty fragment run per session every few minutes.
PROBE_INTERVAL = timedelta(minutes=5)


@st.fragment(run_every=PROBE_INTERVAL)
def _reconnect_probe() -> None:
    """Empty on purpose: its ``run_every`` is what makes the frontend rerun after a reconnect."""


def rerun_after_reconnect() -> None:
    """Call on every signed-in run (inside the sidebar): see the module docstring."""
    _reconnect_probe()
