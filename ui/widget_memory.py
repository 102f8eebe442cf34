"""Bounded session memory: forget the metadata of widgets that are gone (a Streamlit 1.67 leak, issue #14).

Streamlit drops a stale widget's *value* at the end of every full run (``SessionState._remove_stale_widgets``)
but keeps its ``WidgetMetadata`` (``WStates.widget_metadata``) and its key → id mapping for the life of the
session. Every reading gives new widget keys (``confirm-<digest>``, ``music-<event>`` ...), so a session
kept about two dozen metadata objects per reading, and with them whatever their serde holds: a selectbox's
``format_func`` is often a lambda defined in the page script, whose globals are that run's whole page module
(the uploaded photo's bytes, the analysis, the picture shown). That was the server's memory growth under load
(docs/performance.md, "Memory").

:func:`drop_stale_widget_metadata`, called at the start of every full script run (app.py), removes the
metadata and the key mapping of every widget that has neither a value in the widget states (what the browser
sent for this run) nor one kept in the old state: exactly the widgets Streamlit itself already forgot.
tests/unit/test_widget_memory.py fails when an upgrade renames the internals used here.
"""

from __future__ import annotations

import logging

from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_element_id

logger = logging.getLogger(__name__)


def drop_stale_widget_metadata() -> int:
    """Forget the metadata of widgets with no state left in this session; return how many were dropped.

    A no-op outside a script run (bare mode) and inside a fragment run (only full runs prune widget state).
    """
    ctx = get_script_run_ctx()
    if ctx is None or ctx.fragment_ids_this_run:
        return 0
    safe = ctx.session_state
    with safe._lock:
        state = safe._state
        widgets = state._new_widget_state
        live = set(widgets.states)
        live.update(k for k in state._old_state if is_element_id(k))
        stale = [wid for wid in widgets.widget_metadata if wid not in live]
        if not stale:
            return 0
        for wid in stale:
            del widgets.widget_metadata[wid]
        gone = set(stale)
        mapper = state._key_id_mapper
        for key in [k for k, wid in mapper._key_id_mapping.items() if wid in gone]:
            mapper.delete(key)
    logger.debug("dropped the metadata of %d stale widgets", len(stale))
    return len(stale)
