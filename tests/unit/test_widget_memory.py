"""ui.widget_memory: a session forgets the metadata of widgets that are gone, and only those (issue #14)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui.widget_memory import drop_stale_widget_metadata

    st.session_state["dropped"] = drop_stale_widget_metadata()
    n = st.session_state.get("n", 0)
    st.session_state["n"] = n + 1
    st.text_input("Name", key="name")  # the same widget on every run: its value must survive
    st.selectbox("Pick", [1, 2, 3], key=f"pick-{n}", format_func=lambda x: f"#{x}")  # a new one every run
    st.button("Go", key=f"go-{n}")
    state = get_script_run_ctx().session_state._state  # type: ignore[union-attr]
    st.session_state["metadata"] = len(state._new_widget_state.widget_metadata)
    st.session_state["keys"] = len(state._key_id_mapper._key_id_mapping)


def test_metadata_of_gone_widgets_is_dropped_and_live_values_survive() -> None:
    at = AppTest.from_function(_script).run()
    at.text_input(key="name").input("Ada").run()
    for _ in range(10):
        at.run()
        assert not at.exception
    assert at.text_input(key="name").value == "Ada"
    # this run's three widgets and at most the previous run's two that Streamlit dropped at its end
    assert at.session_state["metadata"] <= 5 and at.session_state["keys"] <= 5
    assert at.session_state["dropped"] >= 2


def test_streamlit_still_keeps_gone_widgets_metadata_without_it() -> None:
    """Why the module exists: if an upgrade fixes the leak, this fails and the module can go."""

    def script() -> None:
        import streamlit as st
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        n = st.session_state.get("n", 0)
        st.session_state["n"] = n + 1
        st.button("Go", key=f"go-{n}")
        state = get_script_run_ctx().session_state._state  # type: ignore[union-attr]
        st.session_state["metadata"] = len(state._new_widget_state.widget_metadata)

    at = AppTest.from_function(script).run()
    for _ in range(5):
        at.run()
    assert at.session_state["metadata"] == 6
