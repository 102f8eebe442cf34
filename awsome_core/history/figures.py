"""Plain plotly figures of a user's history, in the app's emotion colours (:data:`EMOTION_COLORS`), and
the rows of its tables (plain dicts of plain text, for ``st.dataframe``).

Times are shown in local wall-clock time of ``tz`` (None: UTC; see :mod:`awsome_core.history.summary`).
Every figure follows the History rule: the corrected emotion wins where there is one (the frame's columns
already do, :mod:`awsome_core.history.correction`). Figures are laid out for a phone too (390 px): titles
wrap onto a second line (:data:`TITLE_WRAP` characters), legends sit under the plot, never on the title.
Long ranges are averaged into at most :data:`MAX_POINTS` time bins (1 min … 1 week wide, the narrowest
that fits) so a year of readings stays a light chart. Every function accepts an empty frame and then
returns a figure that says there is nothing to show.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from awsome_core.charts import PlotSpec
from awsome_core.emotions import EMOTION_COLORS, EMOTIONS
from awsome_core.history.queries import HistoryFrame, LikedTrack, PlayedTrack, StrategyEffect
from awsome_core.history.summary import WEEKDAYS, emotion_counts, resolve_timezone, to_local, weekday_hour_grid
from awsome_core.music.embed import display_artists

logger = logging.getLogger(__name__)

MAX_POINTS: Final = 500
VALENCE_COLOR: Final = "#2ca02c"  # not an emotion colour: valence and arousal are axes, not emotions
AROUSAL_COLOR: Final = "#17becf"
#: Valence 0 → 1 runs from the colour of "sad" through light grey to the colour of "happy".
VALENCE_SCALE: Final = [[0.0, EMOTION_COLORS["sad"]], [0.5, "#f0f0f0"], [1.0, EMOTION_COLORS["happy"]]]
_BIN_WIDTHS_S: Final = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
_EMPTY_MESSAGE: Final = "No readings in this range"
RATINGS: Final = {1: "liked", -1: "disliked"}  # words: not every browser draws emoji
TITLE_WRAP: Final = 34  # characters per title line: what fits a 390 px wide phone at the title's size


def bin_series(times: np.ndarray, values: np.ndarray, *, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Average *values* (``n × k``) over time bins when there are more than *max_points* readings.

    *times* is ``datetime64[us]``. Returns ``(bin_centres, means)``; up to *max_points* readings come
    back unchanged. The bin width is the narrowest of 1 min … 1 week giving at most *max_points* bins.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(times), -1)
    if len(times) <= max_points:
        return times, values
    t = times.astype("datetime64[us]").astype(np.int64)
    span_s = (t.max() - t.min()) / 1e6
    width_s = next((w for w in _BIN_WIDTHS_S if span_s / w <= max_points), _BIN_WIDTHS_S[-1])
    width = np.int64(width_s * 1_000_000)
    bins, inverse = np.unique(t // width, return_inverse=True)
    counts = np.bincount(inverse)
    means = np.column_stack([np.bincount(inverse, weights=col) / counts for col in values.T])
    return (bins * width + width // 2).astype("datetime64[us]"), means


def timeline_figure(frame: HistoryFrame, *, tz: str | None = None, max_points: int = MAX_POINTS) -> PlotSpec:
    """Valence and arousal (0–1) over time."""
    title = "Valence and arousal over time"
    if len(frame) == 0:
        return _empty_figure(title)
    x, y = bin_series(
        to_local(frame.created_at, tz), np.column_stack([frame.valence, frame.arousal]), max_points=max_points
    )
    mode = "lines+markers" if len(x) <= 60 else "lines"
    data = [
        {"type": "scatter", "x": x, "y": y[:, 0], "name": "valence", "mode": mode, "line": {"color": VALENCE_COLOR}},
        {"type": "scatter", "x": x, "y": y[:, 1], "name": "arousal", "mode": mode, "line": {"color": AROUSAL_COLOR}},
    ]
    layout = {"title": title, "hovermode": "x unified", "yaxis": {"range": [0, 1], "title": {"text": "0 low … 1 high"}}}
    return _styled(data, layout)


def probability_area_figure(frame: HistoryFrame, *, tz: str | None = None, max_points: int = MAX_POINTS) -> PlotSpec:
    """The 7 probabilities stacked over time (they sum to 1)."""
    title = "Emotion probabilities over time"
    if len(frame) == 0:
        return _empty_figure(title)
    x, y = bin_series(to_local(frame.created_at, tz), frame.probabilities, max_points=max_points)
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": y[:, i],
            "name": emotion,
            "mode": "lines",
            "stackgroup": "probabilities",
            "line": {"color": EMOTION_COLORS[emotion], "width": 0.5},
            "fillcolor": EMOTION_COLORS[emotion],
        }
        for i, emotion in enumerate(EMOTIONS)
    ]
    return _styled(data, {"title": title, "hovermode": "x unified", "yaxis": {"range": [0, 1], "tickformat": ".0%"}})


def top_emotion_figure(frame: HistoryFrame) -> PlotSpec:
    """How many readings had each emotion on top (the user's correction where they made one)."""
    title = "Your top emotions"
    if len(frame) == 0:
        return _empty_figure(title)
    counts = emotion_counts(frame)
    bar = {
        "type": "bar",
        "x": list(EMOTIONS),
        "y": [counts[e] for e in EMOTIONS],
        "marker": {"color": [EMOTION_COLORS[e] for e in EMOTIONS]},
        "hovertemplate": "%{x}: %{y} readings<extra></extra>",
    }
    return _styled([bar], {"title": title, "yaxis": {"title": {"text": "readings"}}, "showlegend": False})


def heatmap_figure(frame: HistoryFrame, *, tz: str | None = None) -> PlotSpec:
    """Mean valence per weekday (rows, Monday on top) and local hour of day (columns); blank = no readings."""
    title = "When you feel good: mean valence by weekday and hour of day"
    if len(frame) == 0:
        return _empty_figure(title)
    counts, mean = weekday_hour_grid(frame, tz)
    heatmap = {
        "type": "heatmap",
        "z": mean,
        "x": list(range(24)),
        "y": [day[:3] for day in WEEKDAYS],
        "customdata": counts,
        "zmin": 0,
        "zmax": 1,
        "colorscale": VALENCE_SCALE,
        "colorbar": {"title": {"text": "valence", "side": "right"}, "thickness": 10},
        "hoverongaps": False,
        "hovertemplate": "%{y} %{x}:00<br>mean valence %{z:.2f}<br>%{customdata} readings<extra></extra>",
    }
    return _styled([heatmap], {"title": title, "xaxis": {"dtick": 3}, "yaxis": {"autorange": "reversed"}})


def help_figure(effects: Sequence[StrategyEffect]) -> PlotSpec:
    """Mean change in valence at the next reading after each strategy's recommendations."""
    title = "Did it help? Change in valence at your next reading (within an hour)"
    shown = [e for e in effects if e.batches > 0 and not math.isnan(e.mean_delta_valence)]
    if not shown:
        return _empty_figure(title, "No reading followed a recommendation within an hour")
    deltas = [e.mean_delta_valence for e in shown]
    bar = {
        "type": "bar",
        "x": [e.strategy for e in shown],
        "y": deltas,
        "text": [f"n={e.batches}" for e in shown],
        "marker": {"color": [EMOTION_COLORS["happy"] if d >= 0 else EMOTION_COLORS["sad"] for d in deltas]},
        "hovertemplate": "%{x}: %{y:+.3f} (%{text})<extra></extra>",
    }
    layout = {"title": title, "yaxis": {"title": {"text": "Δ valence"}, "zeroline": True}, "showlegend": False}
    return _styled([bar], layout)


def played_table(played: Sequence[PlayedTrack], *, tz: str | None = None) -> list[dict[str, object]]:
    """One row per recommended track: local time, the reading's mood, the user's rating, "title · artists".

    Three narrow columns and the track last (it is cut first), so the table fits a phone; the strategy and
    rank are in the music export.
    """
    zone = resolve_timezone(tz)
    return [
        {
            "When": p.recommended_at.astimezone(zone).strftime("%d %b %H:%M"),
            "Mood": p.mood or "",
            "You": RATINGS.get(p.feedback or 0, ""),
            "Track": _track_label(p.title, p.artists),
        }
        for p in played
    ]


def liked_table(liked: Sequence[LikedTrack]) -> list[dict[str, object]]:
    """One row per liked track: "title · artists" and plays in the range."""
    return [{"Track": _track_label(t.title, t.artists), "Times recommended": t.plays} for t in liked]


def _track_label(title: str, artists: str) -> str:
    names = display_artists(artists)
    return f"{title} · {names}" if names else title


def wrap_title(text: str, width: int = TITLE_WRAP) -> str:
    """*text* broken into lines of at most *width* characters at spaces, joined by ``<br>`` (plotly's break)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _empty_figure(title: str, message: str = _EMPTY_MESSAGE) -> PlotSpec:
    note = {"text": wrap_title(message), "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper"}
    layout = {"annotations": [{**note, "font": {"size": 16}}], "title": title}
    return _styled([], {**layout, "xaxis": {"visible": False}, "yaxis": {"visible": False}})


def _styled(data: Sequence[Mapping[str, object]], layout: Mapping[str, object]) -> PlotSpec:
    """The figure of *data* (traces as dicts) and *layout*, styled: title wrapped and left-aligned; the legend
    at the bottom of the figure, under the axis labels (never on the title or the ticks), with room for three
    rows of it (seven emotions on a phone).

    A :class:`~awsome_core.charts.PlotSpec` of plain dicts, no plotly object (see :mod:`awsome_core.charts`):
    they are written in the form validation would give them (an axis title as ``{"text": ...}``), which
    tests/unit/test_figures_valid.py checks against a validated copy of every figure."""
    title = str(layout.get("title") or "")
    lines = wrap_title(title).count("<br>") + 1
    legend = any(trace.get("showlegend") is not False for trace in data) and layout.get("showlegend") is not False
    styled = {
        **layout,
        "title": {"text": wrap_title(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 40, "r": 20, "t": 30 + 20 * lines, "b": 110 if legend and len(data) > 1 else 50},
        "height": 420 if legend and len(data) > 1 else 380,
        "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.01, "x": 0},
    }
    return PlotSpec(list(data), styled)
