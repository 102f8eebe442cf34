"""AppTest plumbing shared by the page tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from awsome_core.storage.db import upgrade_database


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


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite database (its URL) and a data directory for the app under test."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("AWSOME_DATABASE_URL", url)
    monkeypatch.setenv("AWSOME_DATA_DIR", str(tmp_path))
    upgrade_database(url)
    return url
