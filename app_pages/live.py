"""Live camera: your webcam over WebRTC, faces boxed with their emotions, music for the mood.

The video goes to the server (streamlit-webrtc + aiortc), each frame is analysed as fast as the CPU allows
(``awsome_core.vision.live``) and comes back with boxes, labels and the 7 smoothed probabilities drawn on
it (the bars in a corner where they cover no face), so the live view needs no script reruns. "Use this
mood" (enabled while the stream plays; or, with ``AWSOME_AUTO_CONFIRM_SECONDS``, a reading that stays the
same that long) stores the reading; the result and its correction show right under the button, the music
under the video, while the camera keeps running (rules: ``ui.live_mood``). ICE servers (STUN/TURN) come
from ``AWSOME_ICE_SERVERS``, plus ``AWSOME_TURN_URLS`` with a time-limited credential for this session
(``ui.live.rtc_configuration``).
"""

from __future__ import annotations

import streamlit as st
from streamlit_webrtc import webrtc_streamer

from ui import live, live_mood
from ui.runtime import get_settings, show_errors
from ui.session import require_user

st.title("Live camera")
st.caption(
    "Press **START** and allow the camera. Each face gets a box with its emotion, and the bars show all "
    "7 emotions, smoothed over about a second. Nothing is recorded until you press **Use this mood**."
)

user_id = require_user()
settings = get_settings()
processor = None
with show_errors("Loading the emotion model"):
    processor = live.get_processor()
if user_id is None or processor is None:
    st.page_link("app_pages/photo.py", label="Use the Photo page instead", icon=":material/photo_camera:")
    st.stop()

on_frame, on_ended = live.frame_callbacks(processor)
live.keep_component_visible()
video, side = st.columns([3, 2], gap="large")
with video:
    live.keep_stream_on_rerun_bursts()
    desired = live.plan_recovery()
    ctx = webrtc_streamer(
        key=live.KEY,
        video_frame_callback=on_frame,
        on_video_ended=on_ended,
        async_processing=True,
        media_stream_constraints={"video": True, "audio": False},
        rtc_configuration=live.rtc_configuration(settings, user_id),
        desired_playing_state=desired,
    )
    live.check_drop_after(ctx)

with side:
    status = st.empty()
    if not ctx.state.playing:
        status.markdown(live_mood.PRESS_START)
    live.clear_notice_when_playing(ctx)
    if notice := live.recovery_notice():
        kind, text = notice
        (st.warning if kind == "warning" else st.info)(text)
    if live_mood.use_mood_button(ctx.state.playing):
        live_mood.confirm_reading(user_id, processor)
    live_mood.show_result(user_id)  # right under the button: seen without scrolling
    if settings.auto_confirm_seconds > 0:
        st.caption(f"Your mood is also stored once it stays the same for {settings.auto_confirm_seconds:g} s.")
    st.caption("No picture? If the browser blocks the camera or the video does not start, take a snapshot instead:")
    st.page_link("app_pages/photo.py", label="Photo page", icon=":material/photo_camera:")
    with st.expander("Technical details", icon=":material/info:"):
        details = st.empty()
        details.markdown(live_mood.details_text(processor.snapshot() if ctx.state.playing else None))

live_mood.show_music(user_id)

live.follow_stream(ctx, processor, status, details, user_id=user_id, auto_seconds=settings.auto_confirm_seconds)
