"""AWSome: the Streamlit entry point. Settings, logging, authentication and routing; nothing else."""

from __future__ import annotations

import streamlit as st

from awsome_core.errors import AwsomeError
from awsome_core.text import escape_markdown
from ui.runtime import configure_logging, get_settings
from ui.session import current_user_id, sign_out, sync_login_state

st.set_page_config(page_title="AWSome", page_icon=":material/music_note:", layout="wide")

try:
    settings = get_settings()
    configure_logging(settings.log_level)
    sync_login_state()
except AwsomeError as e:  # unsafe configuration or database down: say so, never a traceback
    st.error(str(e))
    st.stop()

if current_user_id() is None:
    pages = [st.Page("pages/login.py", title="Sign in", icon=":material/login:", default=True)]
else:
    pages = [
        st.Page("pages/live.py", title="Live camera", icon=":material/videocam:", default=True),
        st.Page("pages/photo.py", title="Photo", icon=":material/photo_camera:"),
        st.Page("pages/history.py", title="History", icon=":material/insights:"),
        st.Page("pages/account.py", title="Account", icon=":material/person:"),
        st.Page("pages/about.py", title="About", icon=":material/info:"),
    ]
    with st.sidebar:
        st.markdown(f"Signed in as **{escape_markdown(st.session_state.get('name') or '')}**")
        if st.button("Sign out", key="sign-out", icon=":material/logout:"):
            sign_out()
            st.rerun()

st.navigation(pages).run()
