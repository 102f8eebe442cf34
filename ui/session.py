"""Who is signed in: streamlit-authenticator keeps the signed cookie, our users table decides.

streamlit-authenticator's ``Authenticate`` signs, reads and deletes the login cookie through a hidden
component (extra-streamlit-components' CookieManager). That component reports back once after it loads,
which costs one extra script run; a form submitted during that run can be lost. So the authenticator is
built only when it has work to do: a login cookie to check, a cookie to delete, or a signed-in user whose
cookie it keeps set (the "set" component stays mounted on every run, renewing the cookie, so a rerun can
never unmount it before its JavaScript has run). A first-time visitor's sign-in page has no component.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from awsome_core import auth
from awsome_core.storage.models import User
from ui.mood import save_kept_readings
from ui.runtime import db_session, get_settings

logger = logging.getLogger(__name__)

_DELETE_COOKIE = "_awsome_delete_cookie"


def _authenticator() -> stauth.Authenticate:
    """Build the authenticator for this run (cheap; renders the hidden cookie component)."""
    settings = get_settings()
    authenticator = stauth.Authenticate(
        auth.authenticator_credentials(None),
        cookie_name=settings.cookie_name,
        cookie_key=settings.cookie_key,
        cookie_expiry_days=settings.cookie_expiry_days,
    )
    harden_cookie(authenticator.cookie_controller.cookie_model.cookie_manager, _page_url())
    return authenticator


def _page_url() -> str:
    try:
        return st.context.url or ""
    except Exception:  # no browser context (AppTest)
        return ""


def harden_cookie(manager: Any, page_url: str) -> None:
    """Make the login cookie ``SameSite=Strict`` always and ``Secure`` on a page served over HTTPS.

    The cookie is written by the browser (extra-streamlit-components' CookieManager, ``document.cookie``), so
    it cannot be HttpOnly (docs/deploy.md says what limits the damage). ``Secure`` only where the page itself
    is HTTPS (``st.context.url`` is the browser's address, so this holds behind a TLS-terminating balancer):
    a browser refuses a Secure cookie written by a plain-http page, and local use over http must keep working.
    streamlit-authenticator calls ``manager.set(name, token, expires_at=...)``; the defaults are bound here.
    """
    manager.set = functools.partial(manager.set, secure=page_url.startswith("https://") or None, same_site="strict")


def sync_login_state() -> None:
    """Restore a login from a valid cookie (page reload); keep the cookie set while signed in; delete it
    after signing out. Then save readings kept while the database was down (see ``ui.mood``)."""
    _sync_cookie()
    user_id = current_user_id()
    if user_id is not None:
        save_kept_readings(user_id)


def _sync_cookie() -> None:
    settings = get_settings()
    signed_in = bool(st.session_state.get("authentication_status"))
    has_cookie = settings.cookie_name in st.context.cookies
    deleting = st.session_state.get(_DELETE_COOKIE, False)
    if not (signed_in or has_cookie or deleting):
        return
    authenticator = _authenticator()
    if deleting and not signed_in:
        # Rendered on every signed-out run of this session (until the next sign-in) so that no rerun
        # can unmount the component before it has run; the cookie is revoked server-side anyway.
        try:
            authenticator.cookie_controller.delete_cookie()
        except Exception:  # the cookie was already gone
            logger.debug("no cookie to delete")
        return
    if not signed_in and has_cookie:
        token = _valid_token(authenticator)
        if token is not None:
            username, expires = token
            issued_at = expires - settings.cookie_expiry_days * 86400
            with db_session() as session:
                user = auth.user_for_cookie(session=session, username=username, issued_at=issued_at)
            if user is not None:
                _remember(user)
    if st.session_state.get("authentication_status"):
        authenticator.cookie_controller.set_cookie()


def _valid_token(authenticator: stauth.Authenticate) -> tuple[str, float] | None:
    """``(username, expiry)`` of a correctly signed, unexpired login cookie, else None.

    streamlit-authenticator checks the HS256 signature and the expiry, but lets some forged tokens raise
    (``alg: none`` → InvalidAlgorithmError, a non-numeric ``exp_date`` → TypeError): any such cookie is
    treated as no cookie, never a traceback. The token itself is never logged.
    """
    try:
        token = authenticator.cookie_controller.get_cookie()
        if not isinstance(token, dict):
            return None
        username, expires = token.get("username"), token.get("exp_date")
        if not isinstance(username, str) or isinstance(expires, bool) or not isinstance(expires, int | float):
            return None
        return username, float(expires)
    except Exception as e:  # a forged or corrupt cookie
        logger.info("ignoring an invalid login cookie (%s)", type(e).__name__)
        return None


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
    """Mark *user* signed in for this session; app.py sets the cookie on the next run."""
    _remember(user)
    st.session_state.pop(_DELETE_COOKIE, None)


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


def require_user() -> int:
    """The signed-in user's id, for every page but Sign in. app.py runs a page only for a signed-in session
    (signed out, every URL shows Sign in), so a missing user here is a bug: say so and stop, never a
    traceback."""
    user_id = current_user_id()
    if user_id is None:
        st.warning("Please sign in.")
        st.stop()
    return user_id


def client_address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:
        return None
