"""Sign in or create an account: what every URL shows until someone is signed in (app.py).

Creating an account lists every username and password rule before the user types (``awsome_core.auth``
enforces them; ``ui.signup`` holds the words), and the new user is welcomed by name on the page they land on.
A function, not a page of its own: app.py shows it in place of whatever page the URL names, so a deep link,
a reload or a tab reconnected to another replica lands on that page once signed in.
"""

from __future__ import annotations

import streamlit as st

from awsome_core import auth
from awsome_core.errors import AuthError
from ui.runtime import db_session, get_settings, show_errors
from ui.session import client_address, sign_in
from ui.signup import remember_new_user, rules_markdown


def show_sign_in() -> None:
    """The sign-in and create-account forms; a success signs the session in and reruns the app."""
    st.title("AWSome")
    st.caption("Music for the mood on your face. Sign in or create an account to start.")
    settings = get_settings()
    sign_in_tab, register_tab = st.tabs(["Sign in", "Create account"])

    with sign_in_tab, st.form("sign-in-form"):
        username = st.text_input("Username", key="login-username", autocomplete="username")
        password = st.text_input("Password", type="password", key="login-password", autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary"):
            with show_errors("Signing in"), db_session() as session:
                user = auth.authenticate(
                    session=session,
                    username=username,
                    password=password,
                    client=client_address(),
                    max_failures=settings.max_failed_logins,
                    lockout_minutes=settings.lockout_minutes,
                )
                sign_in(user)
                st.rerun()

    with register_tab, st.form("register-form"):
        st.markdown(rules_markdown())
        new_username = st.text_input("Username", key="reg-username", autocomplete="username")
        display_name = st.text_input("Your name", key="reg-name", autocomplete="name")
        new_password = st.text_input("Password", type="password", key="reg-password", autocomplete="new-password")
        repeat = st.text_input("Repeat password", type="password", key="reg-password2")
        if st.form_submit_button("Create account", type="primary"):
            with show_errors("Creating your account"):
                if new_password != repeat:
                    raise AuthError("The two passwords differ.")
                with db_session() as session:
                    user = auth.register_user(
                        session=session, username=new_username, display_name=display_name, password=new_password
                    )
                sign_in(user)
                remember_new_user(user.display_name)
                st.rerun()
