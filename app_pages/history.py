"""History: your moods over time, the music recommended and what you liked, what helped; correct a reading;
export and delete.

Glue over :mod:`awsome_core.history`: filters → ``load_dashboard`` → the sections of :mod:`ui.history`. Days
and hours are the browser's time zone (``st.context.timezone``; UTC when unknown), the downloads too.
Exports hold the whole history. One rule everywhere: the corrected emotion wins where there is one.
The "API" source (stored as ``manual``) is readings sent through the HTTP API; it is offered only to users
who have such readings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import streamlit as st

from awsome_core.errors import StorageUnavailable
from awsome_core.history.queries import Dashboard, load_dashboard, sources_used
from awsome_core.history.summary import day_range, local_today, period_phrase
from awsome_core.services import account, readings
from awsome_core.storage.repository import SOURCES
from ui import history as view
from ui.mood import save_kept_readings, show_pending_notice
from ui.runtime import db_session, get_sessionmaker, get_settings, show_errors
from ui.session import require_user, sign_out

_FLASH, _CONFIRM_KEYS = "_history_flash", ("confirm-delete-history", "confirm-delete-account")
_OPEN_KEYS = ("history-open-delete-history", "history-open-delete-account")  # the delete boxes' open state
HISTORY_UNAVAILABLE = (
    "Your history is unavailable right now: the database cannot be reached. Nothing is lost; reload this page "
    "in a moment."
)


def _browser_timezone() -> str | None:
    try:
        return st.context.timezone
    except Exception:  # no browser (tests, bare mode)
        return None


def _date_bounds(picked: object, today: date) -> tuple[date, date]:
    """st.date_input gives a 2-tuple, or a 1-tuple while the user is still picking the end."""
    given = list(picked) if isinstance(picked, tuple | list) else [picked]
    days = [d for d in given if isinstance(d, date)] or [today - timedelta(days=6), today]
    return min(days), max(days)


def _delete(user_id: int, what: str, delete: Callable[..., object]) -> bool:
    done = False
    with show_errors(f"Deleting your {what}"):
        delete(sessions=get_sessionmaker(), user_id=user_id, data_dir=get_settings().data_dir)
        done = True
    return done


st.title("History")
user_id = require_user()
if flash := st.session_state.pop(_FLASH, None):
    st.success(flash)
    for key in _CONFIRM_KEYS:
        st.session_state.pop(key, None)
    for key in _OPEN_KEYS:  # a delete done: its box closes
        st.session_state[key] = False

tz = _browser_timezone()
today = local_today(tz)
dash: Dashboard | None = None
offered = [s for s in SOURCES if s != "manual"]
save_kept_readings(user_id)
with show_errors("Loading your history"):
    try:
        with db_session() as session:  # one read session (one connection, one rollback) for the page's data
            offered += [s for s in sources_used(session=session, user_id=user_id) if s not in offered]
            date_col, source_col = st.columns(2)
            picked = date_col.date_input(
                "Dates", value=(today - timedelta(days=6), today), max_value=today, key="history-dates"
            )
            sources = source_col.pills(
                "Sources",
                offered,
                selection_mode="multi",
                default=offered,
                format_func=view.SOURCE_LABELS.get,
                key="history-sources",
            )
            if "manual" in offered:
                source_col.caption("API: readings your own scripts sent through the HTTP API (Account → API tokens).")
            start, end = _date_bounds(picked, today)
            since, until = day_range(start, end, tz)
            dash = load_dashboard(
                session=session,
                user_id=user_id,
                since=since,
                until=until,
                sources=sources or [],
                played_limit=view.TABLE_ROWS,
            )
    except StorageUnavailable:
        st.warning(HISTORY_UNAVAILABLE)
show_pending_notice(user_id)
if dash is None:
    st.stop()
period = period_phrase(start, end, today)
if not dash.has_any_history:
    st.info("No history yet. Take a reading on the **Live camera** or **Photo** page and it will show up here.")
elif not sources:
    st.info("Pick at least one source above to see your readings.")
elif len(dash.frame) == 0 and set(sources) >= set(offered):
    st.info(f"No readings {period}. Try a wider range of dates.")
elif len(dash.frame) == 0:
    names = " or ".join(view.SOURCE_LABELS[s] for s in offered if s in sources)
    st.info(f"No {names} readings {period}. Pick more sources or a wider range of dates.")
else:
    view.show_charts(dash, tz, start, end, today)
    if message := view.correct_a_reading(dash, user_id, tz):
        st.session_state[_FLASH] = message
        st.rerun()
if dash.has_any_history:
    view.show_music(dash, tz)

st.subheader("Your data")
view.show_downloads(user_id, tz, dash.has_any_history)
if (box := view.lazy_expander("Delete my history", icon=":material/delete:", key=_OPEN_KEYS[0])) is not None:
    box.write(
        "Deletes all your readings, recommendations, likes and dislikes, and any photos you chose to keep. "
        "Your account stays."
    )
    sure = box.checkbox("I understand that this cannot be undone", key=_CONFIRM_KEYS[0])
    if box.button("Delete my history", key="delete-history", type="primary", disabled=not sure):
        if _delete(user_id, "history", readings.delete_history):
            st.session_state[_FLASH] = "Your history has been deleted."
            st.rerun()
if (box := view.lazy_expander("Delete my account", icon=":material/person_remove:", key=_OPEN_KEYS[1])) is not None:
    box.write("Deletes your account and everything it owns: readings, recommendations, likes and kept photos.")
    sure = box.checkbox("I understand: delete my account and all my data for good", key=_CONFIRM_KEYS[1])
    if box.button("Delete my account", key="delete-account", type="primary", disabled=not sure):
        if _delete(user_id, "account", account.delete_account):
            sign_out()
            st.rerun()
