"""The app's routing and pages under Streamlit's AppTest (no browser)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.storage.db import make_engine, make_sessionmaker
from tests.conftest import PROJECT_ROOT

APP = PROJECT_ROOT / "app.py"


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    return at


def _signed_in(url: str, display_name: str = "Alice") -> AppTest:
    with make_sessionmaker(make_engine(url))() as session:
        user = auth.register_user(
            session=session, username="alice", display_name=display_name, password="correct-horse-battery", rounds=4
        )
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["user_id"] = user.id
    at.session_state["username"] = user.username
    at.session_state["name"] = user.display_name
    at.run()
    return at


def test_signed_out_user_sees_only_the_sign_in_page(app_env: str) -> None:
    at = _app()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Sign in", "Create account"]
    assert at.title[0].value == "AWSome"


def test_wrong_password_shows_a_message_not_a_traceback(app_env: str) -> None:
    at = _app()
    at.text_input(key="login-username").input("nobody")
    at.text_input(key="login-password").input("wrong-password")
    at.button[0].click().run()  # the sign-in form's submit button
    assert not at.exception
    assert [w.value for w in at.warning] == [auth.WRONG_CREDENTIALS]


def test_registration_signs_the_user_in(app_env: str) -> None:
    at = _app()
    at.text_input(key="reg-username").input("dave")
    at.text_input(key="reg-name").input("Dave")
    at.text_input(key="reg-password").input("correct-horse-battery")
    at.text_input(key="reg-password2").input("correct-horse-battery")
    at.button[1].click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert at.session_state["username"] == "dave"


def test_signed_in_user_lands_on_live_page_and_name_is_escaped(app_env: str) -> None:
    at = _signed_in(app_env, display_name="<b>**Al**</b>")
    assert not at.exception
    assert at.title[0].value == "Live camera"
    sidebar_md = [m.value for m in at.sidebar.markdown]
    assert any("\\<b\\>\\*\\*Al\\*\\*\\</b\\>" in v for v in sidebar_md), sidebar_md


def test_production_without_cookie_key_refuses_to_start(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWSOME_ENV", "production")
    monkeypatch.delenv("AWSOME_COOKIE_KEY", raising=False)
    at = _app()
    assert not at.exception
    assert "cookie key" in at.error[0].value
    assert len(at.tabs) == 0


def test_about_page_shows_model_card_and_catalog(app_env: str) -> None:
    at = _signed_in(app_env)
    at.switch_page("app_pages/about.py").run()
    assert not at.exception
    assert any("PublicTest accuracy" in m.label for m in at.metric)
    assert len(at.get("plotly_chart")) == 1
    assert any("tracks" in m.value for m in at.markdown)


def test_photo_page_waits_for_a_picture(app_env: str) -> None:
    at = _signed_in(app_env)
    at.switch_page("app_pages/photo.py").run()
    assert not at.exception
    assert at.title[0].value == "Photo"
    assert [t.label for t in at.tabs] == ["Upload a photo", "Take a snapshot"]


def test_live_page_before_start_offers_no_use_this_mood(app_env: str) -> None:
    at = _signed_in(app_env)
    assert not at.exception
    assert at.button(key="live-use-mood").disabled  # the stream is not playing (more: test_live_page.py)
    assert any("Press **START**" in m.value for m in at.markdown)
