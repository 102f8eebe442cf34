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

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_element_id

logger = logging.getLogger(__name__)

P = ParamSpec("P")


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
        _forget(state, stale)
    logger.debug("dropped the metadata of %d stale widgets", len(stale))
    return len(stale)


def drop_widgets_left_behind() -> int:
    """At the end of a fragment's run, forget the widgets (value, metadata, key) that a fragment which ran
    in it, the fragment itself or one nested in it, drew before but not this time; return how many.

    The same rule as Streamlit's at the end of a full run, applied where Streamlit does not: at the end of
    a fragment run it drops only the gone widgets of the fragment the run was asked for, so those of a
    fragment nested in it (on the Photo page, each reading's answer, Confirm, strategy and music list) stay
    until the next full run, and a user who stays on the Photo page taking readings never makes one
    (docs/performance.md, fifth pass). Call it only when the fragment's body finished normally: a run cut
    short (``st.rerun``, ``st.stop``) has not drawn everything yet (:func:`tidy_fragment` does both). A
    no-op outside a fragment run.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return 0
    drawn = ctx.shared.widget_ids_this_run.snapshot()
    safe = ctx.session_state
    with safe._lock:
        state = safe._state
        widgets = state._new_widget_state
        ran = {m.fragment_id for wid in drawn if (m := widgets.widget_metadata.get(wid)) and m.fragment_id}
        stale = [wid for wid, m in widgets.widget_metadata.items() if m.fragment_id in ran and _owner(wid) not in drawn]
        if not stale:
            return 0
        _forget(state, stale)
    logger.debug("dropped %d widgets a fragment run left behind", len(stale))
    return len(stale)


_INTERNAL = "$$STREAMLIT_INTERNAL_KEY_"  # Streamlit's prefix for a widget an element registers for itself


def _owner(widget_id: str) -> str:
    """The element a widget belongs to: a custom component registers its trigger widget as
    ``$$STREAMLIT_INTERNAL_KEY_{element id}__events``, which a run does not list among its widgets; it goes
    with its component."""
    if widget_id.startswith(_INTERNAL) and "__" in widget_id[len(_INTERNAL) :]:
        return widget_id[len(_INTERNAL) :].rsplit("__", 1)[0]
    return widget_id


def _forget(state: Any, stale: list[str]) -> None:
    """Remove the widgets *stale* (ids) from Streamlit's session *state*: metadata, any value, the key mapping.
    Call with the session state's lock held."""
    widgets = state._new_widget_state
    for wid in stale:
        del widgets.widget_metadata[wid]
        widgets.states.pop(wid, None)
        state._old_state.pop(wid, None)
    gone = set(stale)
    mapper = state._key_id_mapper
    for key in [k for k, wid in mapper._key_id_mapping.items() if wid in gone]:
        mapper.delete(key)


def tidy_fragment(body: Callable[P, None]) -> Callable[P, None]:
    """``st.fragment(body)`` that forgets, when *body* finishes normally, the widgets it and the fragments
    nested in it left behind (:func:`drop_widgets_left_behind`). For a fragment with fragments inside it.
    ``functools.wraps`` keeps *body*'s name, and with it the fragment's id."""

    @functools.wraps(body)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        body(*args, **kwargs)
        drop_widgets_left_behind()

    return st.fragment(run)  # type: ignore[return-value]


_HELD = "_uploads_held"  # file ids the Photo page's inputs held on its last run


def forget_uploads_left_behind(*current: Any) -> int:
    """Remove this session's uploaded files that the Photo page's inputs held before and hold no longer;
    return how many. *current* are the inputs' values now (``UploadedFile`` or None).

    Streamlit keeps an uploaded file's bytes until the browser deletes it (the chip's ×, or a new file in the
    same uploader) or the session ends. A user who goes to History and back finds an empty uploader, and the
    browser never deletes the file it held before: each such round left one picture (up to the upload limit)
    in the server's memory for the rest of the session (docs/performance.md, sixth pass). Only files this
    page's own inputs held are removed.
    tests/unit/test_widget_memory.py fails when an upgrade renames the internals used here.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return 0
    now = {f.file_id for f in current if f is not None}
    stale = st.session_state.get(_HELD, set()) - now
    for file_id in stale:
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, file_id)
    st.session_state[_HELD] = now
    return len(stale)
