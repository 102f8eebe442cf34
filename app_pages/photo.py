"""Photo: upload a picture or take a snapshot; the most recent one is read, its faces numbered and boxed,
emotions charted, mood confirmed (and corrected afterwards), music. The parts and their rules: ui/photo.py."""

from __future__ import annotations

import hashlib

import streamlit as st

from awsome_core.vision.analyze import FaceEmotion
from awsome_core.vision.photo import NO_FACE_TIPS
from ui import photo
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


analysis: tuple[tuple[FaceEmotion, ...], bytes] | None = None
with show_errors("Analysing the picture"):
    analysis = photo.analyze(picture.data, settings.max_upload_mb * photo.MB)
if analysis is None:
    st.stop()
if not analysis[0]:
    st.warning(NO_FACE_TIPS)
    st.stop()
photo.show_reading(user_id, *analysis, digest, picture.data)
