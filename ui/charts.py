"""Charts on the page: a :class:`~awsome_core.charts.PlotSpec` handed to ``st.plotly_chart`` as it is.

``st.plotly_chart`` turns whatever figure it gets into plain dicts (``plotly.tools.
return_figure_from_figure_or_data``: ``to_dict()`` of a plotly figure, or a validated ``go.Figure`` built from
a dict) and serialises those. :class:`_AsBuilt` is a plotly figure type whose ``to_dict()`` is the spec
itself, with the template a plotly figure would carry (the current default, Streamlit's once Streamlit is
imported), so the page gets the same JSON as from a ``go.Figure`` of the spec without building and copying
plotly's object tree (tests/unit/test_figures_valid.py checks every figure through Streamlit's two
conversion steps, tests/unit/test_streamlit_internals.py through a real ``st.plotly_chart``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from _plotly_utils.utils import to_typed_array_spec
from streamlit.delta_generator import DeltaGenerator

from awsome_core.charts import PlotSpec

CHART_CONFIG = {"displayModeBar": False}  # plotly's mode bar sat on the titles on a phone
# The keys whose values plotly's to_dict() leaves as they are (``_plotly_utils.utils.is_skipped_key``, which
# tests each key against its list one by one); tests/unit/test_figures_valid.py holds the two to each other.
SKIPPED_KEYS = frozenset({"geojson", "layer", "layers", "range"})


@functools.cache
def _template(name: str) -> dict[str, Any]:
    """The registered template *name* as plotly puts it into ``to_dict()`` (read-only: shared by every chart)."""
    template: dict[str, Any] = pio.templates[name].to_plotly_json()
    return template


def _typed(value: Any) -> Any:
    """*value* with its numpy arrays as plotly's typed-array specs (base64), as ``go.Figure.to_dict()`` gives
    them (its ``convert_to_base64``), in new containers: the spec itself is not changed. Specs hold numpy
    arrays, plain containers and scalars only, so an ``isinstance`` test replaces plotly's check of every
    value for pandas, narwhals and array-likes (a tenth of a History view, docs/performance.md)."""
    if isinstance(value, dict):
        return {k: v if k in SKIPPED_KEYS else _typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim:
        return to_typed_array_spec(value)
    return value


class _AsBuilt(go.Figure):
    """A plotly figure type holding a spec, for ``st.plotly_chart``: it only calls ``to_dict()`` on figures.

    Nothing of ``go.Figure`` is set up (no ``super().__init__()``): every other method is unavailable."""

    def __init__(self, spec: PlotSpec) -> None:  # NOTE: no super().__init__: skipping plotly's tree is the point
        self._spec = spec
        self._built: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The spec as plotly's ``to_dict()`` gives it, built on the first call (a figure kept for reruns, like
        the Photo page's chart of a reading, is converted once; Streamlit only serialises what it gets)."""
        if self._built is None:
            built: dict[str, Any] = _typed(self._spec.to_dict())
            default = pio.templates.default
            if "template" not in built["layout"] and isinstance(default, str):
                built["layout"]["template"] = _template(default)
            self._built = built
        return self._built


def as_built(spec: PlotSpec) -> go.Figure:
    """*spec* as the figure ``st.plotly_chart`` takes (see the module docstring)."""
    return _AsBuilt(spec)


def plotly_chart(spec: PlotSpec, *, key: str, container: DeltaGenerator | None = None) -> None:
    """Draw *spec* (without plotly's mode bar) in *container* (the current one by default)."""
    (container or st).plotly_chart(as_built(spec), key=key, config=CHART_CONFIG)
