"""Account page: the user's API tokens — list (name, created, last used), create (shown once), revoke."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from awsome_core.services import tokens
from awsome_core.text import escape_markdown
from ui.runtime import get_sessionmaker, show_errors


def _when(value: datetime | None) -> str:
    """*value* (aware UTC) in the browser's time zone, or "never"."""
    if value is None:
        return "never"
    try:
        zone = ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@st.fragment
def show_tokens(user_id: int) -> None:
    """The API tokens section (a fragment: creating or revoking reruns only this part of the page)."""
    st.subheader("API tokens")
    st.caption(
        "Personal access tokens let your own scripts or apps use the AWSome API as you "
        "(`Authorization: Bearer <token>`). Anyone holding one can read and change your history: keep it secret, "
        "revoke it when you no longer need it."
    )
    sessions = get_sessionmaker()
    with st.form("create-token", clear_on_submit=True, border=False):
        name = st.text_input("Name of a new token", placeholder="e.g. my phone", max_chars=tokens.MAX_NAME)
        if st.form_submit_button("Create token", icon=":material/key:"):
            with show_errors("Creating the token"):
                created = tokens.create_token(sessions=sessions, user_id=user_id, name=name)
                st.success("Token created. Copy it now: it is shown only this once.")
                st.code(created.token, language=None, wrap_lines=True)  # wrapped: whole on a phone too
    with show_errors("Loading your tokens"):
        mine = tokens.list_tokens(sessions=sessions, user_id=user_id)
        if not mine:
            st.caption("You have no API tokens.")
        for token in mine:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(
                f"**{escape_markdown(token.name)}** `{token.prefix}…`  \n"
                f"created {_when(token.created_at)} · last used {_when(token.last_used_at)}"
            )
            if right.button("Revoke", key=f"revoke-token-{token.id}", icon=":material/block:"):
                tokens.revoke_token(sessions=sessions, user_id=user_id, token_id=token.id)
                st.toast(f"Token “{token.name}” revoked.")
                st.rerun(scope="fragment")
