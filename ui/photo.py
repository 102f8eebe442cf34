"""The Photo page's parts: which picture is read, its size check, and the reading (faces, chart, confirm,
corrections, music).

Conventions:

* **The most recent input wins.** The uploader and the camera record which of them changed last
  (``on_change`` → :func:`mark_changed`); :func:`choose_picture` reads that one, or the other when it was
  cleared, and the page says which it reads ("Reading your snapshot").
* **Size.** Streamlit's own cap (``server.maxUploadSize`` in ``.streamlit/config.toml``) is larger than the
  app's limit (``AWSOME_MAX_UPLOAD_MB``), so that a file over the app's limit reaches the page and gets a
  message in it (:func:`too_large`), readable on a touch screen. Only a file over Streamlit's cap itself is
  still refused by the browser with Streamlit's red chip and its hover text; nothing reaches the page then.
* **Faces** are listed and numbered most face-like first (:func:`~awsome_core.vision.photo.most_face_like_first`):
  the box labelled 1 is "Face 1", preselected. One face: no "Whose mood?" choice.
* **Confirm, then correct.** "Did we get it right?" offers "Yes, {predicted}" and then only the other
  emotions. **Confirm this mood** stores the reading with that answer; once it is stored the button is gone
  and a change of the answer is saved at once (``services.readings.correct_reading``), the music follows it.
  The corrected emotion wins wherever there is one (History, exports, music).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from awsome_core.charts import probability_chart
from awsome_core.emotions import one_hot, top_emotion
from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.photo import (
    NO_FACE_TIPS,
    analyze_photo,
    annotated_jpeg,
    mean_probabilities,
    most_face_like_first,
)
from ui.charts import as_built
from ui.mood import (
    KEPT_MESSAGE,
    ReadingKept,
    answer_label,
    answers,
    classifier,
    correct_stored_reading,
    is_pending,
    save_kept_readings,
    store_reading,
    stored_event_id,
)
from ui.music import show_recommendations
from ui.runtime import show_errors
from ui.widget_memory import forget_uploads_left_behind, tidy_fragment

MB: Final = 1_000_000  # the megabyte of the sizes Streamlit shows under an uploaded file
UPLOAD: Final = "upload"
SNAPSHOT: Final = "snapshot"
_LAST: Final = "_photo_last_input"  # UPLOAD or SNAPSHOT: the input the user changed last
_SAVED: Final = "_photo_saved_correction"  # reading_key -> the correction stored (or sent) with it


@dataclass(frozen=True)
class Picture:
    """The picture to read: ``kind`` is :data:`UPLOAD` or :data:`SNAPSHOT`."""

    kind: str
    name: str
    size: int
    data: bytes


def mark_changed(kind: str) -> None:
    """``on_change`` of the uploader (:data:`UPLOAD`) and the camera (:data:`SNAPSHOT`)."""
    st.session_state[_LAST] = kind


def choose_picture(upload: UploadedFile | None, snapshot: UploadedFile | None) -> Picture | None:
    """The input the user changed last, or the other one when that was cleared; None when both are empty."""
    last = st.session_state.get(_LAST, UPLOAD)
    order = [(UPLOAD, upload), (SNAPSHOT, snapshot)]
    if last == SNAPSHOT:
        order.reverse()
    for kind, value in order:
        if value is not None:
            data = value.getvalue()
            return Picture(kind, value.name, len(data), data)
    return None


def say_which(picture: Picture, *, both: bool) -> None:
    """Say which picture is read (and, when there are two, that it is the newer one)."""
    what = "your snapshot" if picture.kind == SNAPSHOT else f"your upload, {picture.name}"
    if both:
        other = "upload" if picture.kind == SNAPSHOT else "snapshot"
        st.info(
            f"Reading {what}: the newer of your two pictures. Clear it to read your {other} again.",
            icon=":material/photo_camera:" if picture.kind == SNAPSHOT else ":material/image:",
        )
    else:
        st.caption(f"Reading {what}.")


def too_large(picture: Picture, limit_mb: int) -> bool:
    """Show an error in the page and return True when *picture* is over *limit_mb* megabytes."""
    if picture.size <= limit_mb * MB:
        return False
    st.error(
        f"This file is {picture.size / MB:.1f} MB; photos can be up to {limit_mb} MB. Please choose a smaller "
        "one (a phone's photo at a medium size, or a screenshot, is plenty).",
        icon=":material/error:",
    )
    return True


@st.cache_data(max_entries=8, show_spinner="Looking for faces…")
def analyze(data: bytes, limit: int) -> tuple[tuple[FaceEmotion, ...], bytes]:
    """The faces of *data* (at most *limit* bytes), most face-like first, and the picture to show, numbered
    and boxed at display size and encoded once (``annotated_jpeg``); the decoded full-size image is not kept
    (a cache hit unpickles only this). Defined here, not in the page script: a cached function defined in
    the script is built again on every run, and building one reads and tokenizes its source."""
    result = analyze_photo(data, classifier=classifier(), max_bytes=limit)
    faces = most_face_like_first(result.faces)
    return faces, annotated_jpeg(result.image_bgr, faces) if faces else b""


@st.cache_resource(max_entries=256)
def _chart(probabilities: tuple[tuple[str, float], ...]) -> go.Figure:
    """The chart of a face's reading, built once per reading (st.plotly_chart only reads it)."""
    return as_built(probability_chart(dict(probabilities)))


@tidy_fragment
def show_reader(user_id: int, max_upload_mb: int) -> None:
    """The two inputs and the reading of the most recent picture (*max_upload_mb*: the app's size limit).

    A fragment: an upload or a snapshot reruns only this, not the whole page; the reading inside it is a
    fragment of its own (:func:`show_reading`), whose earlier readings' widgets are forgotten at the end
    (:func:`~ui.widget_memory.tidy_fragment`)."""
    upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a snapshot"])
    with upload_tab:
        upload = st.file_uploader(
            f"JPEG, PNG or WebP, up to {max_upload_mb} MB",
            type=["jpg", "jpeg", "png", "webp"],
            key="photo-upload",
            on_change=mark_changed,
            args=(UPLOAD,),
        )
    with camera_tab:
        snapshot = st.camera_input(
            "Look into the camera and take a snapshot",
            key="photo-camera",
            width=480,  # its preview and the snapshot leave room for the reading below, on a wide screen too
            on_change=mark_changed,
            args=(SNAPSHOT,),
        )
    forget_uploads_left_behind(upload, snapshot)
    picture = choose_picture(upload, snapshot)
    if picture is None or too_large(picture, max_upload_mb):
        return
    say_which(picture, both=upload is not None and snapshot is not None)
    analysis: tuple[tuple[FaceEmotion, ...], bytes] | None = None
    with show_errors("Analysing the picture"):
        analysis = analyze(picture.data, max_upload_mb * MB)
    if analysis is None:
        return
    if not analysis[0]:
        st.warning(NO_FACE_TIPS)
        return
    show_reading(user_id, *analysis, hashlib.sha256(picture.data).hexdigest()[:16], picture.data)


@tidy_fragment
def show_reading(user_id: int, faces: Sequence[FaceEmotion], shown: bytes, digest: str, data: bytes) -> None:
    """The numbered picture, the chosen face's chart, the answer, Confirm (or the saved state) and the music.

    A fragment: choosing another face, answering or confirming reruns only this, not the page. *faces* are
    in the order their boxes are numbered on *shown*. The widgets of a music list no longer shown (a nested
    fragment, which Streamlit does not clean up here) are forgotten at the end
    (:func:`~ui.widget_memory.tidy_fragment`).
    """
    left, right = st.columns([3, 2])
    left.image(shown, caption=f"{len(faces)} faces, numbered as in the list" if len(faces) > 1 else "1 face")
    choice = 0
    if len(faces) > 1:
        choices = [f"Face {i + 1}: {f.top_emotion} {f.confidence:.0%}" for i, f in enumerate(faces)]
        choices.append("The group (mean of all faces)")
        choice = right.selectbox(
            "Whose mood?", range(len(choices)), format_func=choices.__getitem__, key=f"face-{digest}"
        )
    probabilities = faces[choice].probabilities if choice < len(faces) else mean_probabilities(faces)
    right.plotly_chart(_chart(tuple(probabilities.items())), key=f"chart-{digest}")
    predicted = top_emotion(probabilities)
    reading_key = f"photo-{digest}-{choice}"
    answer = right.selectbox(
        "Did we get it right?",
        answers(predicted),
        format_func=lambda e: answer_label(e, predicted),
        key=f"correct-{reading_key}",
    )
    wanted = None if answer == predicted else answer
    saved: dict[str, str | None] = st.session_state.setdefault(_SAVED, {})
    slot = right.empty()  # the button, gone as soon as the reading is stored
    if stored_event_id(reading_key) is None and not is_pending(reading_key):
        if slot.button("Confirm this mood", type="primary", key=f"confirm-{digest}-{choice}"):
            saved[reading_key] = wanted
            with show_errors("Saving your reading"), contextlib.suppress(ReadingKept):  # kept: said below
                store_reading(
                    user_id=user_id,
                    probabilities=probabilities,
                    source="photo",
                    reading_key=reading_key,
                    face_count=len(faces) if choice == len(faces) else 1,
                    corrected_emotion=wanted,
                    image_bytes=data,
                )
    save_kept_readings(user_id)  # a reading kept while the database was down: saved now if it is back
    event_id = stored_event_id(reading_key)
    if event_id is None:
        if is_pending(reading_key):
            slot.empty()
            st.warning(KEPT_MESSAGE)
        return
    slot.empty()
    if saved.get(reading_key) != wanted and correct_stored_reading(user_id, event_id, wanted, page="Photo"):
        saved[reading_key] = wanted
    emotion = saved.get(reading_key) or predicted
    note = ", your correction" if saved.get(reading_key) else ""
    st.success("Saved to your history.")
    st.caption(f"Stored as {emotion}{note}. Change the answer above to correct it; it is saved at once.")
    mood = one_hot(emotion) if saved.get(reading_key) else probabilities
    show_recommendations(user_id=user_id, event_id=event_id, probabilities=mood)
