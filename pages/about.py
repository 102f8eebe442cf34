"""About: what AWSome is, the emotion model's card, the music catalog, and credits."""

from __future__ import annotations

import streamlit as st

from awsome_core.training.evaluate import confusion_figure
from ui.catalog import show_catalog_section
from ui.mood import classifier
from ui.runtime import show_errors
from ui.session import require_user

TTA_LABELS = {"flip": "with its mirror image (test-time augmentation)", "shift": "with 10 shifted views (TTA)"}

require_user()
st.title("About AWSome")
st.markdown(
    """
AWSome reads the mood on your face with our own convolutional network, trained on FER2013
(with the FERPlus crowd votes), and recommends music for it from a catalog of real Spotify tracks
with their audio features. Only the emotion probabilities are stored, not your photos, unless you
opt in on the Account page.
"""
)

st.header("The emotion model")
with show_errors("Reading the model card"):
    card = classifier().model_card
    evaluation = card.evaluation.get("fer2013_val")
    st.markdown(
        f"Version `{card.model_version.replace('`', '')}` · {card.parameters:,} parameters · "
        f"input {list(card.input_shape)} grayscale · labels: {', '.join(card.labels)}"
    )
    if evaluation is not None:
        plain = evaluation.plain
        cols = st.columns(1 + len(evaluation.tta))
        cols[0].metric("FER2013 PublicTest accuracy", f"{plain.accuracy:.1%}")
        for col, (mode, report) in zip(cols[1:], evaluation.tta.items(), strict=True):
            col.metric(TTA_LABELS.get(mode, f"with {mode} TTA"), f"{report.accuracy:.1%}")
        st.plotly_chart(confusion_figure(plain), key="confusion-matrix")
        st.dataframe(
            {"emotion": list(plain.labels), "recall": list(plain.recall), "F1": list(plain.f1)},
            hide_index=True,
        )
    for weakness in card.known_weaknesses:
        st.caption(f"• {weakness}")

st.header("Music catalog")
show_catalog_section()

st.header("Credits")
st.markdown(
    """
FER2013 (Goodfellow et al., 2013); FERPlus votes (Barsoum et al., 2016); the Spotify Tracks Dataset
(Maharshi Pandya, BSD); MediaPipe BlazeFace face detector (Apache-2.0); Streamlit, streamlit-webrtc,
streamlit-authenticator, SQLAlchemy, Alembic, plotly.
"""
)
