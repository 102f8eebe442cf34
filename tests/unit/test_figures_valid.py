"""The figures, built as plain specs without plotly's validation, are what validation would give, and reach
the page as the JSON a plotly figure of them would.

Validation raises on a misspelt property and rewrites shorthands (an axis ``title`` string becomes
``{"text": ...}``); a spec that skipped it must already be in that form, or plotly.js would get something no
validated figure ever sends. ``ui.charts`` hands a spec to ``st.plotly_chart`` without building a plotly
figure; what Streamlit makes of it (``return_figure_from_figure_or_data``, then ``plotly.io.to_json``) must be
what it makes of a validated ``go.Figure`` of the spec, Streamlit's template included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit.elements.plotly_chart  # noqa: F401  # registers Streamlit's template as plotly's default

from awsome_core.charts import PlotSpec, probability_chart
from awsome_core.emotions import EMOTIONS, VALENCE_AROUSAL
from awsome_core.history import figures
from awsome_core.history.queries import HistoryFrame, StrategyEffect
from ui.charts import as_built


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
    """The figure's JSON as st.plotly_chart sends it (its own two steps), parsed (key order does not matter)."""
    return json.loads(pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False))


def _check(spec: PlotSpec) -> None:
    """*spec*, handed over by ui.charts, sends what its validated plotly figure sends; twice, unchanged."""
    validated = _as_sent(go.Figure(spec.to_dict()))
    assert _as_sent(as_built(spec)) == validated
    assert _as_sent(as_built(spec)) == validated  # the spec itself was not changed on the way
    assert json.loads(json.dumps(validated))["layout"]["template"]["layout"]["colorway"][0] == "#000001"


BUILDERS: dict[str, Callable[[HistoryFrame], PlotSpec]] = {
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
    _check(BUILDERS[name](_frame(n)))


@pytest.mark.parametrize("effects", [EFFECTS, []])
def test_help_figure_equals_its_validated_copy(effects: Sequence[StrategyEffect]) -> None:
    _check(figures.help_figure(effects))


@pytest.mark.parametrize("title", [None, "Face 1"])
def test_probability_chart_equals_its_validated_copy(title: str | None) -> None:
    spec = probability_chart({e: i / 21 for i, e in enumerate(EMOTIONS)}, title=title)
    _check(spec)
    _check(spec.with_layout(height=230))
    assert spec.figure().layout.yaxis.title.text == "probability (%)"


def test_a_misspelt_property_would_be_caught() -> None:
    """The check above can fail: validation refuses what an unvalidated figure lets through."""
    fig = go.Figure({"data": [{"type": "bar", "colour": "red"}]}, _validate=False)
    with pytest.raises(ValueError, match="colour"):
        go.Figure(fig.to_dict())


def test_the_keys_left_as_they_are_are_plotlys() -> None:
    from _plotly_utils.utils import is_skipped_key

    from ui.charts import SKIPPED_KEYS

    candidates = {*SKIPPED_KEYS, "x", "y", "z", "text", "customdata", "ranges", "rangeslider", "layout", "geo"}
    assert {k for k in candidates if is_skipped_key(k)} == SKIPPED_KEYS


def test_a_kept_figure_is_converted_once_and_stays_the_same() -> None:
    figure = as_built(probability_chart(dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS))))
    first = json.dumps(figure.to_dict(), sort_keys=True)
    assert figure.to_dict() is figure.to_dict()
    assert json.dumps(figure.to_dict(), sort_keys=True) == first
