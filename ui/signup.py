"""Sign-up's words: the username and password rules shown before the user types, and the welcome after.

The rules are enforced by :mod:`awsome_core.auth` (``normalize_username``, ``validate_password``);
``tests/unit/test_sign_up_rules.py`` fails when a rule listed here is not one it enforces.
"""

from __future__ import annotations

import streamlit as st

from awsome_core.text import escape_markdown

USERNAME_RULE = "3–32 letters, digits, dots, underscores or hyphens, starting with a letter or digit (any case)"
PASSWORD_RULES = (
    "at least 8 characters (and at most 72 bytes)",
    "not containing your username",
    "not one of the most common passwords (such as “password123” or “qwerty”)",
)
_WELCOME_KEY = "_awsome_welcome"  # (name, page title) of a new user until they leave their first page


def rules_markdown() -> str:
    """Every rule of the sign-up form, as three short markdown lines."""
    return (
        f"**Username:** {USERNAME_RULE}.  \n**Password:** {'; '.join(PASSWORD_RULES)}.  \n"
        "**Your name** is how the app greets you."
    )


def remember_new_user(display_name: str) -> None:
    """Called right after sign-up: the next page welcomes *display_name*."""
    st.session_state[_WELCOME_KEY] = (display_name, None)


def show_welcome(page_title: str) -> None:
    """Welcome a new user on the page they land on after sign-up, until they open another page."""
    pending = st.session_state.get(_WELCOME_KEY)
    if not pending:
        return
    name, first_page = pending
    if first_page not in (None, page_title):
        del st.session_state[_WELCOME_KEY]
        return
    st.session_state[_WELCOME_KEY] = (name, page_title)
    st.success(
        f"Welcome to AWSome, {escape_markdown(name)}! Start the camera on **Live camera** or upload a picture "
        "on **Photo**: we read your mood, suggest music for it, and every reading you keep shows on **History**.",
        icon=":material/waving_hand:",
    )
