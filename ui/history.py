"""The History page's sections: charts, music, correcting a reading, downloads (Streamlit glue over
:mod:`awsome_core.history`; every write goes through :mod:`awsome_core.services`).

Charts are drawn without plotly's mode bar (it sat on the titles on a phone); the figures themselves wrap
their titles and put legends under the plot (:mod:`awsome_core.history.figures`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date

import numpy as np
import pyarrow as pa
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from awsome_core.emotions import EMOTIONS
from awsome_core.history import figures
from awsome_core.history.queries import Dashboard
from awsome_core.history.summary import compute_streaks, period_phrase, resolve_timezone, summary_text
from awsome_core.history.userdata import PAGE_DIGITS
from awsome_core.services import account, readings
from awsome_core.storage.repository import SOURCES
from awsome_core.text import escape_markdown
from ui.charts import plotly_chart
from ui.runtime import get_sessionmaker, show_errors

SOURCE_LABELS = {"live": "Live camera", "photo": "Photo", "manual": "API"}
RULE = (
    "Where you corrected a reading, your correction is its emotion in every chart, count and download "
    "(it counts as 100% that emotion)."
)
_CORRECTABLE = 50  # newest readings of the range offered for correction
TABLE_ROWS = 30  # newest recommended tracks listed on the page (and all the page loads of them)
CORRECT_OPEN = "history-open-correct"  # widget state of the "Correct a reading" box: open or not


def table(rows: list[dict[str, object]]) -> None:
    """A static table (long names wrap on a phone) of *rows* (plain text and numbers, same keys each).

    Handed over as an Arrow table: Streamlit's own conversion of a list of dicts goes through pandas and
    cost twenty times as much (docs/performance.md)."""
    st.table(pa.Table.from_pylist(rows), hide_index=True)


def show_charts(dash: Dashboard, tz: str | None, start: date, end: date, today: date) -> None:
    frame = dash.frame
    st.info(escape_markdown(summary_text(frame, tz=tz, period=period_phrase(start, end, today))))
    streaks = compute_streaks(frame.created_at, tz=tz, today=today)
    # Streaks are counted within the range: a run that reaches its first day may be longer ("7+").
    current = f"{streaks.current}{'+' if streaks.current == (end - start).days + 1 else ''}" if end == today else "–"
    with st.container(horizontal=True, wrap=True):  # four in a row on a desktop, two by two on a phone
        for label, value in zip(
            ("Readings", "Days with a reading", "Longest run of days", "Current run of days"),
            (f"{len(frame):,}", str(streaks.active_days), str(streaks.longest), current),
            strict=True,
        ):
            st.metric(label, value, width=160)
    plotly_chart(figures.timeline_figure(frame, tz=tz), key="history-timeline")
    plotly_chart(figures.probability_area_figure(frame, tz=tz), key="history-probabilities")
    left, right = st.columns(2)
    with left:
        plotly_chart(figures.top_emotion_figure(frame), key="history-top-emotions")
    with right:
        plotly_chart(figures.heatmap_figure(frame, tz=tz), key="history-heatmap")
    st.caption(RULE)


def show_music(dash: Dashboard, tz: str | None) -> None:
    st.subheader("Music recommended to you")
    st.caption("Every track the app recommended to you, and whether you liked it.")
    if not dash.played:
        st.caption("No music was recommended in this range.")
        return
    shown = dash.played[:TABLE_ROWS]
    table(figures.played_table(shown, tz=tz))
    if dash.played_total > len(shown):
        st.caption(f"The newest {len(shown)} of {dash.played_total:,}; the music download below has them all.")
    if dash.liked:
        st.markdown("**Tracks you liked** (by how often they were recommended in this range)")
        table(figures.liked_table(dash.liked))
    if not any(e.batches for e in dash.effects):
        st.markdown("**Did it help?**")
        st.caption(
            "Not known yet: take another reading within an hour of listening, and this shows whether your mood "
            "rose after each kind of music."
        )
        return
    plotly_chart(figures.help_figure(dash.effects), key="history-help")
    st.caption(
        "Change in valence (0 unpleasant … 1 pleasant) from the reading the music was chosen for to your "
        "next reading, when that came within an hour."
    )


def lazy_expander(label: str, *, icon: str, key: str) -> DeltaGenerator | None:
    """A collapsed expander whose content runs only while it is open: the container while open, else None.

    Opening or closing it reruns the page (``on_change="rerun"``), so a History view whose boxes stay shut
    builds none of what they hold (issue #14, docs/performance.md). The open state
    is the widget state under *key*; ``st.session_state[key] = False`` before the call closes it."""
    box = st.expander(label, icon=icon, key=key, on_change="rerun")
    return box if box.open else None


def correct_a_reading(dash: Dashboard, user_id: int, tz: str | None) -> str | None:
    """The "Correct a reading" box over the range's newest readings (its form is built only while the box
    is open); returns a message once saved."""
    frame = dash.frame
    if len(frame) == 0:
        return None
    box = lazy_expander("Correct a reading", icon=":material/edit:", key=CORRECT_OPEN)
    if box is None:
        return None
    zone = resolve_timezone(tz)
    order = np.argsort(-frame.created_at.astype(np.int64), kind="stable")[:_CORRECTABLE]
    labels: dict[int, str] = {}
    for i in order.tolist():
        local = frame.created_at[i].astype("datetime64[us]").item().replace(tzinfo=UTC).astimezone(zone)
        model, emotion = EMOTIONS[frame.model_emotion[i]], EMOTIONS[frame.emotion[i]]
        source = SOURCE_LABELS.get(SOURCES[frame.source[i]] if frame.source[i] >= 0 else "", "")
        note = f"we read {model}, you said {emotion}" if model != emotion else emotion
        labels[int(frame.event_id[i])] = f"{local:%d %b %H:%M} · {source} · {note}"
    with box:
        st.caption("Pick a reading and say how you really felt; the charts and downloads follow your answer.")
        with st.form("history-correct-form", border=False):
            reading_id = st.selectbox("Reading", list(labels), format_func=labels.__getitem__, key="history-reading")
            emotion = st.selectbox(
                "I felt", EMOTIONS, index=None, placeholder="Choose an emotion", key="history-correct-emotion"
            )
            if st.form_submit_button("Save correction", key="history-correct"):
                if emotion is None:
                    st.warning("Choose how you felt first.")
                    return None
                with show_errors("Saving your correction"):
                    reading = readings.correct_reading(
                        sessions=get_sessionmaker(), user_id=user_id, reading_id=int(reading_id), emotion=emotion
                    )
                    return f"Saved: that reading now counts as {reading.emotion}."
    return None


def _exporter(user_id: int, fmt: account.ExportFormat, tz: str | None, what: account.ExportKind) -> Callable[[], str]:
    """Deferred download: runs on click (outside the script thread), with its own session."""
    maker = get_sessionmaker()
    return lambda: account.export(sessions=maker, user_id=user_id, fmt=fmt, tz=tz, digits=PAGE_DIGITS, what=what)


def show_downloads(user_id: int, tz: str | None, enabled: bool) -> None:
    st.caption(
        f"Times are in your time zone ({tz or 'UTC'}), probabilities rounded to {PAGE_DIGITS} decimals; "
        "“emotion” is your correction where you made one."
    )
    exports: tuple[tuple[str, account.ExportFormat, str, account.ExportKind, str], ...] = (
        ("Download my readings (CSV)", "csv", "text/csv", "readings", "awsome-history.csv"),
        ("Download my readings (JSON)", "json", "application/json", "readings", "awsome-history.json"),
        ("Download my music and likes (CSV)", "csv", "text/csv", "music", "awsome-music.csv"),
    )
    with show_errors("Preparing your export"):
        for column, (label, fmt, mime, what, name) in zip(st.columns(len(exports)), exports, strict=True):
            column.download_button(
                label,
                _exporter(user_id, fmt, tz, what),
                file_name=name,
                mime=mime,
                key=f"export-{what}-{fmt}",
                disabled=not enabled,
                on_click="ignore",
            )
