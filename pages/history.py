"""History: your moods over time, what played, what helped; export and delete."""

from __future__ import annotations

import streamlit as st

st.title("History")
st.info(
    "Coming next: your readings over time (valence and arousal), the mix of emotions, a weekday × hour "
    "heatmap, what played and what you liked, and whether the music helped. Export as CSV/JSON or delete."
)
