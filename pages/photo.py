"""Photo: upload a picture or take a snapshot; faces boxed, emotions charted, music recommended."""

from __future__ import annotations

import streamlit as st

st.title("Photo")
st.info(
    "Coming next: upload a JPEG, PNG or WebP photo (up to the size limit) or take a snapshot; every face is "
    "boxed with its top emotion, a chart shows all 7 probabilities, you confirm (or correct) the mood and get "
    "tracks to play right here."
)
