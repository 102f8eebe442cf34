"""Photo: upload a picture or take a snapshot; faces boxed, emotions charted, mood confirmed, music."""

from __future__ import annotations

import contextlib
import hashlib

import plotly.graph_objects as go
import streamlit as st

from awsome_core.charts import probability_chart
from awsome_core.emotions import EMOTIONS, top_emotion
from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.photo import NO_FACE_TIPS, analyze_photo, annotated_jpeg, mean_probabilities
from ui.mood import (
    KEPT_MESSAGE,
    ReadingKept,
    classifier,
    is_pending,
    save_kept_readings,
    store_reading,
    stored_event_id,
)
from ui.music import show_recommendations
from ui.runtime import get_settings, show_errors
from ui.session import require_user

st.title("Photo")
settings = get_settings()
user_id = require_user()
upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a snapshot"])
with upload_tab:
    upload = st.file_uploader(
        f"JPEG, PNG or WebP, up to {settings.max_upload_mb} MB",
        type=["jpg", "jpeg", "png", "webp"],
        key="photo-upload",
    )
with camera_tab:
    snapshot = st.camera_input("Look into the camera and take a snapshot", key="photo-camera")

picture = upload or snapshot
if picture is None or user_id is None:
    st.stop()
data = picture.getvalue()
digest = hashlib.sha256(data).hexdigest()[:16]


@st.cache_data(max_entries=8, show_spinner="Looking for faces…")
def _analyze(data: bytes, limit: int) -> tuple[tuple[FaceEmotion, ...], bytes]:
    """The faces and the picture to show, boxed at display size and encoded once (``annotated_jpeg``); the
    decoded full-size image is not kept (a cache hit unpickles only this)."""
    result = analyze_photo(data, classifier=classifier(), max_bytes=limit)
    return result.faces, annotated_jpeg(result.image_bgr, result.faces) if result.faces else b""


@st.cache_resource(max_entries=256)
def _chart(probabilities: tuple[tuple[str, float], ...]) -> go.Figure:
    """The chart of a face's reading, built once per reading (st.plotly_chart only reads it)."""
    return probability_chart(dict(probabilities))


@st.fragment
def _show_reading(user_id: int, faces: tuple[FaceEmotion, ...], shown: bytes, digest: str, data: bytes) -> None:
    """The picture, the chosen face's chart, the confirmation and the music. A fragment: choosing another face,
    correcting the emotion or confirming reruns only this, not the page (uploader, analysis, navigation)."""
    left, right = st.columns([3, 2])
    left.image(shown, caption=f"{len(faces)} face(s)")
    choices = [f"Face {i + 1}: {f.top_emotion} {f.confidence:.0%}" for i, f in enumerate(faces)]
    if len(faces) > 1:
        choices.append("The group (mean of all faces)")
    choice = right.selectbox("Whose mood?", range(len(choices)), format_func=choices.__getitem__, key=f"face-{digest}")
    probabilities = faces[choice].probabilities if choice < len(faces) else mean_probabilities(faces)
    right.plotly_chart(_chart(tuple(probabilities.items())), key=f"chart-{digest}")
    predicted = top_emotion(probabilities)
    corrected = right.selectbox(
        "Did we get it right?",
        [None, *EMOTIONS],
        format_func=lambda e: f"Yes, {predicted}" if e is None else f"No, I feel {e}",
        key=f"correct-{digest}",
    )
    reading_key = f"photo-{digest}-{choice}"
    if right.button("Confirm this mood", type="primary", key=f"confirm-{digest}"):
        with show_errors("Saving your reading"), contextlib.suppress(ReadingKept):  # kept: said just below
            store_reading(
                user_id=user_id,
                probabilities=probabilities,
                source="photo",
                reading_key=reading_key,
                face_count=len(faces) if choice == len(faces) else 1,
                corrected_emotion=corrected if corrected != predicted else None,
                image_bytes=data,
            )
    save_kept_readings(user_id)  # a reading kept while the database was down: saved now if it is back
    event_id = stored_event_id(reading_key)
    if event_id is None and is_pending(reading_key):
        st.warning(KEPT_MESSAGE)
    if event_id is not None:
        st.success("Saved to your history.")
        mood = {e: 1.0 if e == corrected else 0.0 for e in EMOTIONS} if corrected else probabilities
        show_recommendations(user_id=user_id, event_id=event_id, probabilities=mood)


analysis: tuple[tuple[FaceEmotion, ...], bytes] | None = None
with show_errors("Analysing the picture"):
    analysis = _analyze(data, settings.max_upload_mb * 1_000_000)
if analysis is None:
    st.stop()
if not analysis[0]:
    st.warning(NO_FACE_TIPS)
    st.stop()
_show_reading(user_id, *analysis, digest, data)
