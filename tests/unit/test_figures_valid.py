"""The figures built without plotly's validation pass (``_validate=False``) are what validation would give.

Validation raises on a misspelt property and rewrites shorthands (an axis ``title`` string becomes
``{"text": ...}``); a figure that skipped it must already be in that form, or plotly.js would get
something no validated figure ever sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from awsome_core.charts import probability_chart
from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.history import figures
from awsome_core.history.queries import HistoryFrame, StrategyEffect


def _frame(n: int) -> HistoryFrame:
    emotions = [EMOTIONS[i % len(EMOTIONS)] for i in range(n)]
    idx = np.array([EMOTIONS.index(e) for e in emotions], dtype=np.int8)
    start = np.datetime64("2026-03-01T08:00", "us")
    return HistoryFrame(
        event_id=np.arange(n, dtype=np.int64),
        created_at=start + np.arange(n) * np.timedelta64(37, "m"),
        probabilities=np.eye(len(EMOTIONS))[idx],
        valence=np.array([VALENCE_AROUSAL[e][0] for e in emotions]),
        arousal=np.array([VALENCE_AROUSAL[e][1] for e in emotions]),
        emotion=idx,
        source=np.zeros(n, dtype=np.int8),
    )


def _as_sent(fig: go.Figure) -> object:
    """The figure's JSON as st.plotly_chart sends it, parsed (key order does not matter)."""
    return json.loads(pio.to_json(fig, validate=False))


BUILDERS: dict[str, Callable[[HistoryFrame], go.Figure]] = {
    "timeline": figures.timeline_figure,
    "probability_area": figures.probability_area_figure,
    "top_emotion": figures.top_emotion_figure,
    "heatmap": figures.heatmap_figure,
}
EFFECTS: Sequence[StrategyEffect] = [
    StrategyEffect(strategy="match", batches=3, mean_delta_valence=0.12, improved=2),
    StrategyEffect(strategy="lift", batches=2, mean_delta_valence=-0.05, improved=0),
]


@pytest.mark.parametrize("n", [0, 1, 30, 700])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_history_figures_equal_their_validated_copy(name: str, n: int) -> None:
    fig = BUILDERS[name](_frame(n))
    assert _as_sent(fig) == _as_sent(go.Figure(fig.to_dict()))


@pytest.mark.parametrize("effects", [EFFECTS, []])
def test_help_figure_equals_its_validated_copy(effects: Sequence[StrategyEffect]) -> None:
    fig = figures.help_figure(effects)
    assert _as_sent(fig) == _as_sent(go.Figure(fig.to_dict()))


@pytest.mark.parametrize("title", [None, "Face 1"])
def test_probability_chart_equals_its_validated_copy(title: str | None) -> None:
    fig = probability_chart({e: i / 21 for i, e in enumerate(EMOTIONS)}, title=title)
    assert _as_sent(fig) == _as_sent(go.Figure(fig.to_dict()))
    assert fig.layout.yaxis.title.text == "probability (%)"


def test_a_misspelt_property_would_be_caught() -> None:
    """The check above can fail: validation refuses what an unvalidated figure lets through."""
    fig = go.Figure({"data": [{"type": "bar", "colour": "red"}]}, _validate=False)
    with pytest.raises(ValueError, match="colour"):
        go.Figure(fig.to_dict())
