"""History: your moods over time, the music recommended and what you liked, what helped; export and delete.

Glue over :mod:`awsome_core.history`: filters → ``load_dashboard`` → figures and tables. Days and hours are
the browser's time zone (``st.context.timezone``; UTC when unknown). Exports hold the whole history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import streamlit as st

from awsome_core.errors import StorageUnavailable
from awsome_core.history import figures
from awsome_core.history.queries import Dashboard, load_dashboard
from awsome_core.history.summary import compute_streaks, day_range, local_today, period_phrase, summary_text
from awsome_core.services import account, readings
from awsome_core.storage.repository import SOURCES
from awsome_core.text import escape_markdown
from ui.mood import save_kept_readings, show_pending_notice
from ui.runtime import db_session, get_sessionmaker, get_settings, show_errors
from ui.session import require_user, sign_out

_FLASH, _CONFIRM_KEYS = "_history_flash", ("confirm-delete-history", "confirm-delete-account")
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


def _exporter(user_id: int, fmt: account.ExportFormat) -> Callable[[], str]:
    """Deferred download: runs on click (outside the script thread), with its own session."""
    maker = get_sessionmaker()
    return lambda: account.export(sessions=maker, user_id=user_id, fmt=fmt)


def _delete(user_id: int, what: str, delete: Callable[..., object]) -> bool:
    done = False
    with show_errors(f"Deleting your {what}"):
        delete(sessions=get_sessionmaker(), user_id=user_id, data_dir=get_settings().data_dir)
        done = True
    return done


def _charts(dash: Dashboard, tz: str | None, start: date, end: date, today: date) -> None:
    frame = dash.frame
    st.info(escape_markdown(summary_text(frame, tz=tz, period=period_phrase(start, end, today))))
    streaks = compute_streaks(frame.created_at, tz=tz, today=today)
    # Streaks are counted within the range: a run that reaches its first day may be longer ("7+").
    current = f"{streaks.current}{'+' if streaks.current == (end - start).days + 1 else ''}" if end == today else "–"
    for column, label, value in zip(
        st.columns(4),
        ("Readings", "Days with a reading", "Longest run of days", "Current run of days"),
        (f"{len(frame):,}", str(streaks.active_days), str(streaks.longest), current),
        strict=True,
    ):
        column.metric(label, value)
    st.plotly_chart(figures.timeline_figure(frame, tz=tz), key="history-timeline")
    st.plotly_chart(figures.probability_area_figure(frame, tz=tz), key="history-probabilities")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.top_emotion_figure(frame), key="history-top-emotions")
    with right:
        st.plotly_chart(figures.heatmap_figure(frame, tz=tz), key="history-heatmap")


def _music(dash: Dashboard, tz: str | None) -> None:
    st.subheader("Music recommended to you")
    st.caption("Every track the app recommended to you, and whether you liked it.")
    if not dash.played:
        st.caption("No music was recommended in this range.")
        return
    st.dataframe(figures.played_table(dash.played, tz=tz), hide_index=True, key="history-played")
    if dash.liked:
        st.markdown("**Tracks you liked** (by how often they were recommended in this range)")
        st.dataframe(
            figures.liked_table(dash.liked),
            hide_index=True,
            key="history-liked",
            column_config={"Plays": st.column_config.NumberColumn("Times recommended")},
        )
    st.plotly_chart(figures.help_figure(dash.effects), key="history-help")
    st.caption(
        "Change in valence (0 unpleasant … 1 pleasant) from the reading the music was chosen for to your "
        "next reading, when that came within an hour."
    )


st.title("History")
user_id = require_user()
if flash := st.session_state.pop(_FLASH, None):
    st.success(flash)
    for key in _CONFIRM_KEYS:
        st.session_state.pop(key, None)

tz = _browser_timezone()
today = local_today(tz)
date_col, source_col = st.columns(2)
picked = date_col.date_input("Dates", value=(today - timedelta(days=6), today), max_value=today, key="history-dates")
sources = source_col.pills("Sources", SOURCES, selection_mode="multi", default=list(SOURCES), key="history-sources")
start, end = _date_bounds(picked, today)
since, until = day_range(start, end, tz)

dash: Dashboard | None = None
save_kept_readings(user_id)
with show_errors("Loading your history"):
    try:
        with db_session() as session:
            dash = load_dashboard(session=session, user_id=user_id, since=since, until=until, sources=sources or [])
    except StorageUnavailable:
        st.warning(HISTORY_UNAVAILABLE)
show_pending_notice(user_id)
if dash is None:
    st.stop()
if not dash.has_any_history:
    st.info("No history yet. Take a reading on the **Live camera** or **Photo** page and it will show up here.")
elif len(dash.frame) == 0:
    st.info(f"No readings {period_phrase(start, end, today)} from the sources you picked. Try a wider range.")
else:
    _charts(dash, tz, start, end, today)
if dash.has_any_history:
    _music(dash, tz)

st.subheader("Your data")
EXPORTS: tuple[tuple[str, account.ExportFormat, str], ...] = (
    ("CSV", "csv", "text/csv"),
    ("JSON", "json", "application/json"),
)
with show_errors("Preparing your export"):
    for column, (kind, fmt, mime) in zip(st.columns(len(EXPORTS)), EXPORTS, strict=True):
        column.download_button(
            f"Download all my readings ({kind})",
            _exporter(user_id, fmt),
            file_name=f"awsome-history.{kind.lower()}",
            mime=mime,
            key=f"export-{kind.lower()}",
            disabled=not dash.has_any_history,
            on_click="ignore",
        )
with st.expander("Delete my history", icon=":material/delete:"):
    st.write(
        "Deletes all your readings, recommendations, likes and dislikes, and any photos you chose to keep. "
        "Your account stays."
    )
    sure = st.checkbox("I understand that this cannot be undone", key=_CONFIRM_KEYS[0])
    if st.button("Delete my history", key="delete-history", type="primary", disabled=not sure):
        if _delete(user_id, "history", readings.delete_history):
            st.session_state[_FLASH] = "Your history has been deleted."
            st.rerun()
with st.expander("Delete my account", icon=":material/person_remove:"):
    st.write("Deletes your account and everything it owns: readings, recommendations, likes and kept photos.")
    sure = st.checkbox("I understand: delete my account and all my data for good", key=_CONFIRM_KEYS[1])
    if st.button("Delete my account", key="delete-account", type="primary", disabled=not sure):
        if _delete(user_id, "account", account.delete_account):
            sign_out()
            st.rerun()
