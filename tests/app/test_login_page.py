"""Sign-up under AppTest: every rule is on the form before typing; the new user is welcomed by name once."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT
from ui.signup import PASSWORD_RULES

APP = PROJECT_ROOT / "app.py"


def test_the_form_lists_every_rule_before_the_user_types(app_env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    text = " ".join(m.value for m in at.markdown)
    assert all(rule in text for rule in PASSWORD_RULES) and "3–32" in text
    assert not at.warning and not at.error


def _land(at: AppTest) -> AppTest:
    """Run app.py again with *at*'s session, as the browser's next run after signing in does.

    (AppTest keeps running the sign-in page's script after ``st.rerun()``; a fresh AppTest of app.py with
    the same session state routes like the browser.)"""
    landed = AppTest.from_file(str(APP), default_timeout=60)
    for key in ("authentication_status", "username", "name", "email", "user_id", "_awsome_welcome"):
        if key in at.session_state:
            landed.session_state[key] = at.session_state[key]
    return landed.run()


def test_sign_up_welcomes_the_new_user_by_name(app_env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input(key="reg-username").input("dave")
    at.text_input(key="reg-name").input("Dave <b>")
    at.text_input(key="reg-password").input("correct-horse-battery")
    at.text_input(key="reg-password2").input("correct-horse-battery")
    at.button[1].click().run()
    landed = _land(at)
    assert not landed.exception
    assert landed.title[0].value == "Live camera"
    (welcome,) = [s.value for s in landed.success if s.value.startswith("Welcome")]
    assert "Dave \\<b\\>" in welcome  # the name, escaped


def test_the_welcome_goes_once_the_user_opens_another_page() -> None:
    def script() -> None:
        import streamlit as st

        from ui.signup import show_welcome

        show_welcome(st.session_state.get("page", "Live camera"))

    at = AppTest.from_function(script)
    at.session_state["_awsome_welcome"] = ("Dave", None)
    assert len(at.run().success) == 1
    assert len(at.run().success) == 1
    at.session_state["page"] = "History"
    assert len(at.run().success) == 0
    at.session_state["page"] = "Live camera"
    assert len(at.run().success) == 0


def test_signing_in_to_an_existing_account_has_no_welcome(app_env: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input(key="reg-username").input("erin")
    at.text_input(key="reg-name").input("Erin")
    at.text_input(key="reg-password").input("correct-horse-battery")
    at.text_input(key="reg-password2").input("correct-horse-battery")
    at.button[1].click().run()
    again = AppTest.from_file(str(APP), default_timeout=60).run()
    again.text_input(key="login-username").input("erin")
    again.text_input(key="login-password").input("correct-horse-battery")
    again.button[0].click().run()
    again = _land(again)
    assert not again.exception and again.title[0].value == "Live camera"
    assert not any(s.value.startswith("Welcome") for s in again.success)
