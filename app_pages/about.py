"""About: what AWSome does with your face in plain words (accuracy in one sentence, read from the model card),
then the model card's details in an expander, the music catalog, and credits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from awsome_core.training.card import ModelCard
from awsome_core.training.evaluate import confusion_figure
from awsome_core.training.metrics import EvalReport
from ui.catalog import show_catalog_section
from ui.mood import classifier
from ui.runtime import show_errors
from ui.session import require_user

TTA_LABELS = {"flip": "with its mirror image (test-time augmentation)", "shift": "with 10 shifted views (TTA)"}


def accuracy_sentence(card: ModelCard) -> str:
    """The model card's served accuracy on its held-out test set, best and weakest emotion, in one sentence."""
    evaluation = card.evaluation.get("fer2013_val")
    if evaluation is None:
        return "This model has not been measured on a test set yet."
    report = evaluation.tta.get(card.serving_mode("photo"), evaluation.plain)
    recall = dict(zip(report.labels, report.recall, strict=True))
    best, worst = max(recall, key=recall.__getitem__), min(recall, key=recall.__getitem__)
    return (
        f"On {evaluation.rows:,} faces it never saw while learning, it named the emotion people had given them "
        f"{report.accuracy:.0%} of the time: most often right about {best}, least often about {worst}."
    )


def confusion_chart(report: EvalReport) -> Any:
    """The card's confusion matrix sized for a phone too: a title of two short lines, no colour bar (each cell
    says its count and share), so the 7 × 7 cells get the width."""
    fig = confusion_figure(report, title="Confusion matrix<br><sup>each row: how a true emotion was read</sup>")
    fig.update_traces(showscale=False)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def percents(values: Sequence[float]) -> list[int]:
    """Shares in [0, 1] as whole percentages (the table shows "42%", not 0.4213)."""
    return [round(100 * v) for v in values]


require_user()
st.title("About AWSome")
st.markdown(
    """
**What AWSome does with your face.** When you start the camera or upload a photo, AWSome finds the faces in
the picture and our emotion model reads, for each face, how likely each of seven emotions is: angry,
disgust, fear, happy, sad, surprise and neutral. You confirm the mood (or correct it), and AWSome
suggests music for it from a catalog of real Spotify tracks.

**What is kept.** The picture is analysed on our server and then thrown away. Only the seven numbers,
your correction and the time go into your history, unless you choose to keep photos on the Account page.
You can download or delete your history at any time on the History page.
"""
)
with show_errors("Reading the model card"):
    st.markdown(
        f"**How accurate it is.** {accuracy_sentence(classifier().model_card)} "
        "A face turned away, in shadow or half hidden is read less reliably; you can always correct it."
    )

with (
    st.expander("The emotion model: its model card", icon=":material/model_training:"),
    show_errors("Reading the model card"),
):
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
        st.plotly_chart(confusion_chart(plain), key="confusion-matrix")
        st.dataframe(
            {"emotion": list(plain.labels), "recall": percents(plain.recall), "F1": percents(plain.f1)},
            hide_index=True,
            column_config={k: st.column_config.NumberColumn(k, format="%d%%") for k in ("recall", "F1")},
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
