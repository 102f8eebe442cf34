"""Plotly figures shared by pages (one colour per emotion everywhere: ``EMOTION_COLORS``), as plain specs.

A chart is built as a :class:`PlotSpec`: the ``{"data": [...], "layout": {...}}`` dicts plotly.js draws,
written in the form plotly's validation gives them (tests/unit/test_figures_valid.py compares every spec with
a validated copy). No plotly object is built on the way to the page: building a ``go.Figure`` (its tree of
validators and the default template copied into it) and copying it back into dicts for the page cost more
than the rest of a History view's charts (docs/performance.md). :meth:`PlotSpec.figure` builds the plotly
figure for any other use; ``ui.charts`` hands a spec to ``st.plotly_chart``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from awsome_core.emotions import EMOTION_COLORS, EMOTIONS


@dataclass(frozen=True)
class PlotSpec:
    """A plotly figure as plain dicts: *data* (traces, each with its ``type``) and *layout* (no template: the
    page's own, Streamlit's, is added where it is drawn)."""

    data: Sequence[Mapping[str, Any]]
    layout: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"data": [...], "layout": {...}}``: new outer containers, the traces and values shared."""
        return {"data": list(self.data), "layout": dict(self.layout)}

    def with_layout(self, **changes: Any) -> PlotSpec:
        """The same spec with top-level layout properties replaced (e.g. ``height=230``)."""
        return PlotSpec(self.data, {**self.layout, **changes})

    def figure(self) -> go.Figure:
        """The plotly figure of this spec (unvalidated, as built; ``go.Figure(spec.to_dict())`` validates)."""
        return go.Figure(self.to_dict(), _validate=False)


def probability_chart(probabilities: Mapping[str, float], *, title: str | None = None) -> PlotSpec:
    """A bar chart of the 7 probabilities in FER2013 order, as percentages."""
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
    layout: dict[str, Any] = {
        "yaxis": {"title": {"text": "probability (%)"}, "range": [0, 105]},
        "margin": {"l": 10, "r": 10, "t": 40 if title else 24, "b": 10},
        "height": 300,
        "showlegend": False,
    }
    if title:
        layout["title"] = {"text": title}
    return PlotSpec([bar], layout)
