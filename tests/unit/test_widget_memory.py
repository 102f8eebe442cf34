"""ui.widget_memory: a session forgets the metadata of widgets that are gone, and only those (issue #14)."""

from __future__ import annotations

import pytest
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


def test_a_fragment_run_forgets_the_widgets_its_fragments_drew_before_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """drop_widgets_left_behind, on Streamlit's own state classes: the Photo page's case, where an upload
    reruns the reader fragment, the reading fragment nested in it draws a new reading, and the last reading's
    widgets (same nested fragment) would otherwise stay until a full run."""
    import threading
    from types import SimpleNamespace

    from streamlit.runtime.state.common import WidgetMetadata
    from streamlit.runtime.state.session_state import SessionState

    import ui.widget_memory as memory

    state = SessionState()
    widgets = state._new_widget_state

    def widget(wid: str, key: str, fragment: str | None) -> None:
        widgets.widget_metadata[wid] = WidgetMetadata(
            wid, lambda v: v, lambda v: v, "string_value", fragment_id=fragment
        )
        state._old_state[wid] = "value"
        state._key_id_mapper[key] = wid

    widget("$$ID-a-upload", "upload", "reader")  # the reader fragment's own, drawn again
    widget("$$ID-b-correct-new", "correct-new", "reading")  # the new reading's
    widget("$$ID-c-correct-old", "correct-old", "reading")  # the last reading's: left behind
    widget("$$ID-d-sign-out", "sign-out", None)  # app.py's: outside the fragment, not drawn in its runs
    widget("$$ID-e-music-old", "music-old", "music")  # a fragment that did not run this time: kept
    # a custom component's trigger widget, which no run lists: it goes with its component
    widget("$$ID-f-cards-new", "cards-new", "reading")
    widget("$$STREAMLIT_INTERNAL_KEY_$$ID-f-cards-new__events", "$$STREAMLIT_INTERNAL_KEY_f-events", "reading")
    widget("$$ID-g-cards-old", "cards-old", "reading")
    widget("$$STREAMLIT_INTERNAL_KEY_$$ID-g-cards-old__events", "$$STREAMLIT_INTERNAL_KEY_g-events", "reading")
    drawn = frozenset({"$$ID-a-upload", "$$ID-b-correct-new", "$$ID-f-cards-new"})
    ctx = SimpleNamespace(
        fragment_ids_this_run=["reader"],
        shared=SimpleNamespace(widget_ids_this_run=SimpleNamespace(snapshot=lambda: drawn)),
        session_state=SimpleNamespace(_lock=threading.Lock(), _state=state),
    )
    monkeypatch.setattr(memory, "get_script_run_ctx", lambda: ctx)

    assert memory.drop_widgets_left_behind() == 3  # the old reading's answer, cards and their trigger
    assert set(widgets.widget_metadata) == {
        "$$ID-a-upload",
        "$$ID-b-correct-new",
        "$$ID-d-sign-out",
        "$$ID-e-music-old",
        "$$ID-f-cards-new",
        "$$STREAMLIT_INTERNAL_KEY_$$ID-f-cards-new__events",
    }
    assert "$$ID-c-correct-old" not in state._old_state and "$$ID-a-upload" in state._old_state
    assert "correct-old" not in state._key_id_mapper._key_id_mapping
    assert state._key_id_mapper._key_id_mapping["sign-out"] == "$$ID-d-sign-out"

    ctx.fragment_ids_this_run = None  # a full run: Streamlit's own cleanup, nothing here
    assert memory.drop_widgets_left_behind() == 0


def test_uploads_the_photo_inputs_no_longer_hold_are_removed_and_only_those(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the page's inputs held and hold no longer (the user went to History and came back, or dropped a
    new file) is removed from this session's uploads; the file held now, and files the page never held, stay."""
    from types import SimpleNamespace

    from streamlit.proto.Common_pb2 import FileURLs
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    from ui import widget_memory

    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    monkeypatch.setattr(
        widget_memory, "get_script_run_ctx", lambda: SimpleNamespace(session_id="s", uploaded_file_mgr=manager)
    )
    monkeypatch.setattr(widget_memory, "st", SimpleNamespace(session_state={}))
    for name in "ABC":
        manager.add_file("s", UploadedFileRec(file_id=name, name=name, type="image/jpeg", data=b"x" * 1000))
    manager.add_file("other", UploadedFileRec(file_id="A", name="A", type="image/jpeg", data=b"x"))

    def held(name: str | None) -> UploadedFile | None:
        return UploadedFile(manager.get_files("s", [name])[0], FileURLs()) if name else None

    def left() -> list[str]:
        return sorted(f.file_id for f in manager.get_files("s", ["A", "B", "C"]))

    assert widget_memory.forget_uploads_left_behind(held("A"), None) == 0 and left() == ["A", "B", "C"]
    assert widget_memory.forget_uploads_left_behind(held("A"), None) == 0 and left() == ["A", "B", "C"]
    assert widget_memory.forget_uploads_left_behind(None, held("C")) == 1 and left() == ["B", "C"]  # A: gone
    assert widget_memory.forget_uploads_left_behind(None, None) == 1 and left() == ["B"]  # back from History
    assert [f.file_id for f in manager.get_files("other", ["A"])] == ["A"]  # another session's file stays
