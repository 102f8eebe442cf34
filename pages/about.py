"""About: what AWSome is, the emotion model's card, and credits."""

from __future__ import annotations

import streamlit as st

st.title("About AWSome")
st.markdown(
    """
AWSome reads the mood on your face with our own convolutional network, trained on FER2013
(with the FERPlus crowd votes), and recommends music for it from a catalog of real Spotify tracks
with their audio features.

* **Emotions:** angry, disgust, fear, happy, sad, surprise, neutral.
* **Privacy:** only the emotion probabilities are stored, not your photos, unless you opt in on the Account page.
* **Credits:** FER2013 (Goodfellow et al., 2013); FERPlus (Barsoum et al., 2016); the Spotify Tracks Dataset
  (Maharshi Pandya, BSD); Streamlit, streamlit-webrtc, streamlit-authenticator.
"""
)
