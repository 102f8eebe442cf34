"""Who is signed in: streamlit-authenticator keeps the signed cookie, our users table decides.

streamlit-authenticator's ``Authenticate`` renders the cookie component (extra-streamlit-components)
on every run from app.py. Setting or deleting the cookie is deferred to the next full run of app.py
(flags in session_state) so the component is rendered and runs before any ``st.rerun()``.
"""

from __future__ import annotations

import logging

import streamlit as st
import streamlit_authenticator as stauth

from awsome_core import auth
from awsome_core.storage.models import User
from ui.runtime import db_session, get_settings

logger = logging.getLogger(__name__)

_SET_COOKIE, _DELETE_COOKIE = "_awsome_set_cookie", "_awsome_delete_cookie"


def get_authenticator() -> stauth.Authenticate:
    """Build the authenticator for this run (cheap; renders the hidden cookie component)."""
    settings = get_settings()
    return stauth.Authenticate(
        auth.authenticator_credentials(None),
        cookie_name=settings.cookie_name,
        cookie_key=settings.cookie_key,
        cookie_expiry_days=settings.cookie_expiry_days,
    )


def sync_login_state(authenticator: stauth.Authenticate) -> None:
    """Apply pending cookie changes and restore a login from a valid cookie (page reload)."""
    if st.session_state.pop(_DELETE_COOKIE, False):
        try:
            authenticator.cookie_controller.delete_cookie()
        except Exception:  # the cookie was already gone
            logger.debug("no cookie to delete")
    if st.session_state.pop(_SET_COOKIE, False) and st.session_state.get("authentication_status"):
        authenticator.cookie_controller.set_cookie()
    if st.session_state.get("authentication_status"):
        return
    token = authenticator.cookie_controller.get_cookie()
    if not token:
        return
    issued_at = float(token.get("exp_date", 0)) - get_settings().cookie_expiry_days * 86400
    with db_session() as session:
        user = auth.user_for_cookie(session=session, username=str(token.get("username", "")), issued_at=issued_at)
    if user is not None:
        _remember(user)


def _remember(user: User) -> None:
    st.session_state.update(
        authentication_status=True,
        username=user.username,
        name=user.display_name,
        email=user.email,
        user_id=user.id,
        logout=False,
    )


def sign_in(user: User) -> None:
    """Mark *user* signed in for this session and set the cookie on the next run."""
    _remember(user)
    st.session_state[_SET_COOKIE] = True


def sign_out() -> None:
    """Revoke this user's cookies server-side, delete the cookie and forget the session."""
    user_id = st.session_state.get("user_id")
    if user_id is not None:
        try:
            with db_session() as session:
                auth.end_all_sessions(session=session, user_id=int(user_id))
        except Exception:
            logger.exception("could not revoke sessions at logout")
    for key in ("authentication_status", "username", "name", "email", "user_id"):
        st.session_state[key] = None
    st.session_state["logout"] = True
    st.session_state[_DELETE_COOKIE] = True


def current_user_id() -> int | None:
    uid = st.session_state.get("user_id")
    return int(uid) if st.session_state.get("authentication_status") and uid is not None else None


def client_address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:
        return None
