"""Photo: upload a picture or take a snapshot; the most recent one is read, its faces numbered and boxed,
emotions charted, mood confirmed (and corrected afterwards), music. The parts and their rules: ui/photo.py.

Everything under the title is one fragment (``photo.show_reader``): a new upload or snapshot reruns it, not
app.py, the sidebar and the page set-up around it."""

from __future__ import annotations

import streamlit as st

from ui import photo
from ui.runtime import get_settings
from ui.session import require_user

st.title("Photo")
photo.show_reader(require_user(), get_settings().max_upload_mb)
