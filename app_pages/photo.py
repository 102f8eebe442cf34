"""Photo: upload a picture or take a snapshot; the most recent one is read, its faces numbered and boxed,
emotions charted, mood confirmed (and corrected afterwards), music. The parts and their rules: ui/photo.py."""

from __future__ import annotations

import hashlib

import streamlit as st

from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.photo import NO_FACE_TIPS, analyze_photo, annotated_jpeg, most_face_like_first
from ui import photo
from ui.mood import classifier
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
        on_change=photo.mark_changed,
        args=(photo.UPLOAD,),
    )
with camera_tab:
    snapshot = st.camera_input(
        "Look into the camera and take a snapshot",
        key="photo-camera",
        width=480,  # its preview and the snapshot leave room for the reading below, on a wide screen too
        on_change=photo.mark_changed,
        args=(photo.SNAPSHOT,),
    )

picture = photo.choose_picture(upload, snapshot)
if picture is None or user_id is None:
    st.stop()
if photo.too_large(picture, settings.max_upload_mb):
    st.stop()
photo.say_which(picture, both=upload is not None and snapshot is not None)
digest = hashlib.sha256(picture.data).hexdigest()[:16]


@st.cache_data(max_entries=8, show_spinner="Looking for faces…")
def _analyze(data: bytes, limit: int) -> tuple[tuple[FaceEmotion, ...], bytes]:
    """The faces, most face-like first, and the picture to show, numbered and boxed at display size and
    encoded once (``annotated_jpeg``); the decoded full-size image is not kept (a cache hit unpickles only this)."""
    result = analyze_photo(data, classifier=classifier(), max_bytes=limit)
    faces = most_face_like_first(result.faces)
    return faces, annotated_jpeg(result.image_bgr, faces) if faces else b""


analysis: tuple[tuple[FaceEmotion, ...], bytes] | None = None
with show_errors("Analysing the picture"):
    analysis = _analyze(picture.data, settings.max_upload_mb * photo.MB)
if analysis is None:
    st.stop()
if not analysis[0]:
    st.warning(NO_FACE_TIPS)
    st.stop()
photo.show_reading(user_id, *analysis, digest, picture.data)
