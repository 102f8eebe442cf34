"""Streamlit internals app.py relies on: these fail loudly when an upgrade changes them (DESIGN: private APIs
of dependencies only behind a test)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from PIL import Image
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from tests.conftest import PROJECT_ROOT


def test_no_pages_folder_beside_app_py_and_the_icon_is_bundled() -> None:
    """With a ``pages/`` folder next to app.py, Streamlit runs a fresh process's first session in its old
    "pages directory" mode: the file names flash in the sidebar, a deep link runs the page file without
    app.py's sign-in, and a tab reconnected after a failover lands on the default page first (app.py)."""
    assert not (PROJECT_ROOT / "pages").exists()
    assert hasattr(PagesManager, "uses_pages_directory")  # the mode still exists: the folder would matter
    source = inspect.getsource(script_runner)
    assert "if PagesManager.uses_pages_directory:" in source and 'pages_folder.glob("*.py")' in source
    app = (PROJECT_ROOT / "app.py").read_text()
    assert '"app_pages/' in app and '"pages/' not in app
    assert ":material/" not in app.split("st.set_page_config(")[1].split(")")[0]  # no icon font from a CDN
    icon = PROJECT_ROOT / "ui" / "static" / "awsome-icon.png"
    with Image.open(icon) as image:
        assert image.format == "PNG" and image.size == (64, 64)
    assert Path(icon).stat().st_size < 16_000


def test_webrtc_context_still_has_the_stale_run_count_that_ui_live_disarms() -> None:
    """ui.live.keep_stream_on_rerun_bursts writes ``_last_rendered_run_count`` behind a ``hasattr`` guard; if an
    upgrade renames or drops it, the guard would switch the workaround off silently. This fails instead."""
    from streamlit_webrtc import component
    from streamlit_webrtc.component import WebRtcStreamerContext, WebRtcStreamerState

    ctx = WebRtcStreamerContext(worker=None, state=WebRtcStreamerState(playing=False, signalling=False))
    assert hasattr(ctx, "_last_rendered_run_count") and ctx._last_rendered_run_count is None
    source = inspect.getsource(component._get_or_create_context)
    assert "context._last_rendered_run_count is not None" in source  # the check it disarms
    assert "_reset_context(context)" in source
    assert callable(component.get_this_session_info) and callable(component.get_script_run_count)


def test_keep_stream_on_rerun_bursts_disarms_the_check_while_the_component_is_on_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import streamlit_webrtc.component as component
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(component, "get_this_session_info", lambda: None)  # AppTest has no session manager

    def script() -> None:
        import streamlit as st
        from streamlit_webrtc.component import (
            WebRtcStreamerContext,
            WebRtcStreamerState,
            generate_frontend_component_key,
        )

        from ui.live import KEY, keep_stream_on_rerun_bursts

        if KEY not in st.session_state:
            ctx = WebRtcStreamerContext(worker=None, state=WebRtcStreamerState(playing=True, signalling=False))
            ctx._last_rendered_run_count = 5
            st.session_state[KEY] = ctx
            st.session_state[generate_frontend_component_key(KEY)] = {"playing": True}
        keep_stream_on_rerun_bursts()
        st.write(repr(st.session_state[KEY]._last_rendered_run_count))

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert at.markdown[0].value == "None"  # disarmed: the library's stale-context reset cannot fire


_BUILT_PER_RUN = {"cache_data", "cache_resource", "fragment"}


def test_scripts_that_run_on_every_rerun_define_no_cached_function_or_fragment() -> None:
    """app.py and the page scripts run again on every rerun; a ``@st.cache_*`` or ``@st.fragment`` function
    defined there is built again each time (Streamlit reads and tokenizes its source to key the cache: a
    few percent of the server under load, docs/performance.md). Such functions live in ui/ modules."""
    import ast

    scripts = [PROJECT_ROOT / "app.py", *sorted((PROJECT_ROOT / "app_pages").glob("*.py"))]
    found = []
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(target, ast.Attribute) and target.attr in _BUILT_PER_RUN:
                        found.append(f"{script.name}: {node.name} (@{target.attr})")
    assert found == []


def _chart_script() -> None:  # an AppTest script: one chart drawn as ui.charts draws it, one from a go.Figure
    import plotly.graph_objects as go
    import streamlit as st

    from awsome_core.charts import probability_chart
    from ui.charts import as_built

    spec = probability_chart({"happy": 0.75, "sad": 0.25}, title="Face 1")
    st.plotly_chart(as_built(spec), key="as-built")
    st.plotly_chart(go.Figure(spec.to_dict()), key="validated")


def test_st_plotly_chart_sends_a_spec_as_it_sends_its_validated_figure() -> None:
    """ui.charts hands st.plotly_chart a figure type whose only working method is ``to_dict()``: Streamlit must
    still convert figures with plotly's ``return_figure_from_figure_or_data`` and ``plotly.io.to_json``, and
    send the same JSON (Streamlit's template included) as for a ``go.Figure`` of the same spec."""
    import json

    from streamlit.elements import plotly_chart
    from streamlit.testing.v1 import AppTest

    source = inspect.getsource(plotly_chart.PlotlyMixin.plotly_chart)
    assert "return_figure_from_figure_or_data(" in source and "plotly.io.to_json(figure, validate=False)" in source
    at = AppTest.from_function(_chart_script).run()
    assert not at.exception
    sent, validated = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert sent == validated and sent["layout"]["template"]["layout"]["colorway"][0] == "#000001"
