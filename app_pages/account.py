"""Account: your details, password change, privacy choice and sign-out."""

from __future__ import annotations

import streamlit as st

from awsome_core import auth
from awsome_core.errors import AuthError
from awsome_core.services import account
from awsome_core.storage import repository
from awsome_core.storage.models import User
from awsome_core.text import escape_markdown
from ui.runtime import db_session, get_sessionmaker, show_errors
from ui.session import require_user, sign_in, sign_out
from ui.tokens import show_tokens

st.title("Account")
user_id = require_user()
user: User | None = None
with show_errors("Loading your account"), db_session() as session:
    user = repository.get_user(session=session, user_id=user_id)
    if user is None:
        st.warning("Your account could not be found.")
if user is None:
    st.stop()
st.markdown(f"**Name:** {escape_markdown(user.display_name)}  \n**Username:** {escape_markdown(user.username)}")
keep = st.toggle(
    "Keep the photos I analyse (off: only the emotion probabilities are stored)",
    value=bool(user.store_images),
    key="store-images",
)
if keep != bool(user.store_images):
    with show_errors("Saving your choice"):
        account.set_store_images(sessions=get_sessionmaker(), user_id=user_id, enabled=keep)
        st.toast("Saved.")

st.subheader("Change password")
with st.form("change-password", clear_on_submit=True):
    old = st.text_input("Current password", type="password", key="pw-old")
    new = st.text_input("New password", type="password", key="pw-new")
    repeat = st.text_input("Repeat new password", type="password", key="pw-new2")
    if st.form_submit_button("Change password"):
        with show_errors("Changing your password"):
            if new != repeat:
                raise AuthError("The two new passwords differ.")
            with db_session() as session:
                changed = auth.change_password(session=session, user_id=user_id, old_password=old, new_password=new)
            sign_in(changed)  # other devices are signed out; this one gets a fresh cookie
            st.success("Password changed. Other devices have been signed out.")

show_tokens(user_id)

st.subheader("Sign out")
if st.button("Sign out of AWSome", key="account-sign-out"):
    sign_out()
    st.rerun()
