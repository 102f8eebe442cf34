"""Plotly figures shared by pages (one colour per emotion everywhere: ``EMOTION_COLORS``)."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from awsome_core.emotions import EMOTION_COLORS, EMOTIONS


def probability_chart(probabilities: Mapping[str, float], *, title: str | None = None) -> go.Figure:
    """A bar chart of the 7 probabilities in FER2013 order, as percentages.

    Built from dicts in the form plotly's validation gives them, without that pass (``_validate=False``, a
    few times faster; tests/unit/test_figures_valid.py compares it with a validated copy)."""
    values = [100 * float(probabilities.get(e, 0.0)) for e in EMOTIONS]
    bar = {
        "type": "bar",
        "x": list(EMOTIONS),
        "y": values,
        "marker": {"color": [EMOTION_COLORS[e] for e in EMOTIONS]},
        "text": [f"{v:.0f}%" for v in values],
        "textposition": "outside",
        "cliponaxis": False,  # the label of a bar near 100% shows above the plot instead of being cut
        "hovertemplate": "%{x}: %{y:.1f}%<extra></extra>",
    }
    layout = {
        "yaxis": {"title": {"text": "probability (%)"}, "range": [0, 105]},
        "margin": {"l": 10, "r": 10, "t": 40 if title else 24, "b": 10},
        "height": 300,
        "showlegend": False,
    }
    if title:
        layout["title"] = {"text": title}
    return go.Figure({"data": [bar], "layout": layout}, _validate=False)
