"""Live camera: your webcam over WebRTC, faces boxed with their emotions, music for the mood."""

from __future__ import annotations

import streamlit as st

st.title("Live camera")
st.info(
    "Coming next: look into your webcam and the app draws a box around each face with its emotion, "
    "shows all 7 probabilities live, and when you press **Use this mood** it stores the reading and "
    "plays music for it. Meanwhile you can use the **Photo** page."
)
