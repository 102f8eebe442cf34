"""AppTest plumbing shared by the page tests."""

from __future__ import annotations

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_resources() -> None:
    """Settings, the engine and the model are cached per process; each test gets its own."""
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def webrtc_without_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """streamlit-webrtc 0.79 asks the server's session manager for the session, which AppTest mocks
    (``Mock object has no attribute '_session_mgr'``); with no session info it renders normally."""
    import streamlit_webrtc.component as component

    monkeypatch.setattr(component, "get_this_session_info", lambda: None)
