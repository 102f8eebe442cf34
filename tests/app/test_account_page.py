"""The Account page under AppTest: the photo opt-in and API tokens (create shown once, list, revoke)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from awsome_core import auth
from awsome_core.services import tokens
from awsome_core.storage import repository
from awsome_core.storage.db import make_engine, make_sessionmaker
from tests.conftest import PROJECT_ROOT

PAGE = PROJECT_ROOT / "app_pages" / "account.py"


def _signed_in(url: str) -> tuple[AppTest, int]:
    with make_sessionmaker(make_engine(url))() as session:
        user = auth.register_user(
            session=session, username="carol", display_name="Carol", password="correct-horse-battery", rounds=4
        )
        user_id = int(user.id)
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["user_id"] = user_id
    at.session_state["username"] = "carol"
    return at.run(), user_id


def test_a_token_is_shown_once_listed_and_revoked(app_env: str) -> None:
    at, user_id = _signed_in(app_env)
    assert not at.exception
    assert any("no API tokens" in c.value for c in at.caption)
    next(t for t in at.text_input if t.label == "Name of a new token").input("laptop script")
    next(b for b in at.button if b.label == "Create token").click()
    at = at.run()
    sessions = make_sessionmaker(make_engine(app_env))
    listed = tokens.list_tokens(sessions=sessions, user_id=user_id)
    assert [t.name for t in listed] == ["laptop script"]
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith(tokens.TOKEN_PREFIX)
    assert tokens.authenticate_token(sessions=sessions, token=shown[0]) == user_id
    at = at.run()  # any later run: the token is not shown again
    assert [c.value for c in at.code] == []
    at.button(key=f"revoke-token-{listed[0].id}").click()
    at = at.run()
    assert tokens.list_tokens(sessions=sessions, user_id=user_id) == []


def test_the_photo_opt_in_is_saved(app_env: str) -> None:
    at, user_id = _signed_in(app_env)
    at.toggle(key="store-images").set_value(True)
    at = at.run()
    with make_sessionmaker(make_engine(app_env))() as session:
        user = repository.get_user(session=session, user_id=user_id)
        assert user is not None and user.store_images
