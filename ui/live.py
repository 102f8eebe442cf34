"""Glue for the Live camera page: per-session processor, webrtc callbacks, stream recovery, polling (the
reading, its confirmation, correction and music: ``ui.live_mood``).

Threads: streamlit-webrtc calls the frame callback and ``on_video_ended`` from its own worker thread. They
reach the session's :class:`~awsome_core.vision.live.LiveProcessor` through a closure and touch nothing
else: no ``st.*``, no session state, no database. The script thread reads ``processor.snapshot()``.

Reruns: streamlit-webrtc ≤ 0.79 can stop its own worker right after the stream starts when script runs
come in a burst (its stale-context check reads Streamlit's ``script_run_count`` while the event loop is
still incrementing it; see the README, Troubleshooting). So this page draws the live reading onto the video
(no reruns), refreshes its status line from one long script run, and

* :func:`keep_stream_on_rerun_bursts` disarms that check while the component is still on the page (the
  check exists for a user who left the page and came back; Streamlit then has dropped the component's
  widget state, and the check stays armed);
* :func:`plan_recovery` notices when the library dropped the stream under a playing browser anyway
  and restarts it once, visibly (``desired_playing_state`` stop, a 3 s pause, then start).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import av
import streamlit as st
from streamlit_webrtc import component as webrtc_component
from streamlit_webrtc.component import generate_frontend_component_key

from awsome_core.config import Settings
from awsome_core.turn import TurnCredential, ice_server, mint_credential
from awsome_core.vision.live import LiveProcessor
from ui import live_mood
from ui.live_media import bgr_to_frame, frame_to_bgr, use_light_vp8_encoder
from ui.mood import live_classifier

logger = logging.getLogger(__name__)

KEY = "live-emotion"
IFRAME_TITLE = "streamlit_webrtc.component.webrtc_streamer"
_PROCESSOR, _AUTO_DONE = "_live_processor", "_live_auto_done"
_PHASE, _PHASE_AT, _NOTICE = "_live_recovery", "_live_recovery_at", "_live_notice"
_TURN = "_live_turn_credential"
RECOVERY_TIMEOUT_S = 20.0
RESTART_DELAY_S = 3.0
POLL_S = 0.5
ANALYSED_FPS = 12.0  # per stream: the reading needs ≥ 10; every frame of 15 fps costs a fifth more (issue #14)
DETECT_EVERY = 2  # the detector on every other analysed frame, the boxes reused in between (issue #14)

DROPPED = "The camera connection dropped right after it started; restarting it once…"
RESTARTED = "The camera connection dropped right after it started and was restarted."
DROPPED_AGAIN = "The camera connection dropped again. Press **START** to try once more, or use the Photo page."


def get_processor() -> LiveProcessor:
    """This session's processor (created on first use; never shared with another session)."""
    if _PROCESSOR not in st.session_state:
        model = live_classifier()
        st.session_state[_PROCESSOR] = LiveProcessor(
            model, max_fps=ANALYSED_FPS, detect_every=DETECT_EVERY, alternate_flip=model.tta == "flip"
        )
    processor: LiveProcessor = st.session_state[_PROCESSOR]
    return processor


def rtc_configuration(settings: Settings, user_id: int) -> dict[str, Any]:
    """The ICE servers for this browser session: ``AWSOME_ICE_SERVERS`` as they are, plus the TURN URLs with a
    credential of this session's own that expires (``awsome_core.turn``). A credential is kept for the session
    and replaced once less than half its lifetime is left, so a connection started now has at least that
    long; the TURN secret itself stays here."""
    servers = settings.ice_server_list()
    urls = settings.turn_url_list()
    if urls:
        credential: TurnCredential | None = st.session_state.get(_TURN)
        if credential is None or credential.remaining_seconds() < settings.turn_ttl_seconds / 2:
            credential = mint_credential(settings.turn_secret, f"u{user_id}", ttl_seconds=settings.turn_ttl_seconds)
            st.session_state[_TURN] = credential
        servers = [*servers, ice_server(urls, credential)]
    return {"iceServers": servers}


def frame_callbacks(processor: LiveProcessor) -> tuple[Callable[[av.VideoFrame], av.VideoFrame], Callable[[], None]]:
    """``(video_frame_callback, on_video_ended)`` bound to *processor* by closure; the video sent back is
    encoded with :func:`ui.live_media.use_light_vp8_encoder`'s settings."""
    use_light_vp8_encoder()

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
        # NOTE: runs in streamlit-webrtc's worker thread: no st.*, no session state, no database.
        # (streamlit-webrtc copies the pts and time base onto the frame returned)
        return bgr_to_frame(processor.process(frame_to_bgr(frame)))

    def on_ended() -> None:
        # NOTE: worker thread too. Frees this stream's state; the shared model stays loaded.
        processor.reset()
        logger.info("live stream ended; processor reset")

    return on_frame, on_ended


def keep_component_visible() -> None:
    """Undo, for the webrtc iframe only, the login cookie component's CSS that hides every element holding an
    iframe of height 0: the webrtc iframe starts at height 0 and, hidden, could never measure and grow."""
    st.markdown(
        f"<style>.element-container:has(iframe[title='{IFRAME_TITLE}']) {{ display: block !important; }}</style>",
        unsafe_allow_html=True,
    )


# ---------------------------------------------------------------- stream state and recovery


def _frontend_active(key: str) -> bool:
    """What the browser last reported: playing or signalling (its widget value; None once off the page)."""
    value = st.session_state.get(generate_frontend_component_key(key))
    return bool(value) and bool(value.get("playing") or value.get("sdpOffer"))


def _server_active(ctx: Any) -> bool:
    return ctx is not None and bool(ctx.state.playing or ctx.state.signalling)


def keep_stream_on_rerun_bursts(key: str = KEY) -> None:
    """Before ``webrtc_streamer``: disarm the library's stale-context reset while its component is on the page."""
    ctx = st.session_state.get(key)
    if ctx is None or generate_frontend_component_key(key) not in st.session_state:
        return  # first visit, or the user left the page: the library's check must run
    last = getattr(ctx, "_last_rendered_run_count", None)
    info = webrtc_component.get_this_session_info()  # via the component module, as tests patch it there
    count = webrtc_component.get_script_run_count(info) if info is not None else None
    if last is not None and count is not None and count > last + 1:
        logger.info("streamlit-webrtc would have reset the live stream (run count %d after %d); kept it", count, last)
    if hasattr(ctx, "_last_rendered_run_count"):
        ctx._last_rendered_run_count = None


def _set_phase(phase: str | None, notice: str | None = None) -> None:
    st.session_state[_PHASE], st.session_state[_PHASE_AT] = phase, time.monotonic()
    if notice is not None:
        st.session_state[_NOTICE] = notice


def _on_drop() -> bool:
    """The library lost the stream under a playing browser: restart once per start. True if restarting."""
    phase = st.session_state.get(_PHASE)
    if phase in ("stop", "start", "connecting"):
        return False  # already recovering
    if phase == "done":
        logger.warning("live stream dropped again after the restart; leaving it to the user")
        _set_phase(None, DROPPED_AGAIN)
        return False
    logger.warning("live stream dropped right after it started (streamlit-webrtc context reset); restarting it once")
    _set_phase("stop", DROPPED)
    return True


def plan_recovery(key: str = KEY) -> bool | None:
    """Before ``webrtc_streamer``: the ``desired_playing_state`` for this run (None: the user's buttons)."""
    ctx, frontend = st.session_state.get(key), _frontend_active(key)
    server = _server_active(ctx)
    phase = st.session_state.get(_PHASE)
    if phase in ("stop", "start", "connecting") and time.monotonic() - st.session_state[_PHASE_AT] > RECOVERY_TIMEOUT_S:
        logger.warning("live stream restart timed out in phase %s", phase)
        _set_phase(None, DROPPED_AGAIN)
    elif frontend and ctx is not None and not server:
        _on_drop()
    elif phase == "stop" and not frontend:
        # let aiortc finish closing the dropped connection before the browser offers a new one
        time.sleep(max(0.0, RESTART_DELAY_S - (time.monotonic() - st.session_state[_PHASE_AT])))
        _set_phase("start")
    elif phase == "start" and server:
        _set_phase("connecting")
    elif phase == "connecting" and ctx.state.playing:
        _set_phase("done", RESTARTED)
        logger.info("live stream restarted")
    elif phase == "connecting" and not frontend and not server:
        logger.warning("live stream restart did not connect")
        _set_phase(None, DROPPED_AGAIN)
    elif phase == "done" and not frontend and not server:
        _set_phase(None)  # the user stopped the restarted stream: the next START may be restarted again
    if not frontend and not server:
        st.session_state.pop(_AUTO_DONE, None)
    return {"stop": False, "start": True}.get(st.session_state.get(_PHASE) or "")


def check_drop_after(ctx: Any, key: str = KEY) -> None:
    """After ``webrtc_streamer``: if the library dropped the stream during this very run, restart it now."""
    if _frontend_active(key) and not _server_active(ctx) and _on_drop():
        st.rerun()


def recovery_notice() -> tuple[str, str] | None:
    """``(kind, text)`` to show beside the video, or None. kind is ``info`` or ``warning``."""
    notice = st.session_state.get(_NOTICE)
    if not notice:
        return None
    return ("warning" if notice == DROPPED_AGAIN else "info"), notice


def clear_notice_when_playing(ctx: Any) -> None:
    if ctx.state.playing and st.session_state.get(_PHASE) is None:
        st.session_state.pop(_NOTICE, None)


# ---------------------------------------------------------------- polling


def follow_stream(
    ctx: Any, processor: LiveProcessor, status: Any, details: Any, *, user_id: int, auto_seconds: float
) -> None:
    """While the stream plays, refresh *status* (plain words) and *details* (the expander's technical line)
    twice a second from this one script run (no reruns), and store the first reading that stays the same for
    *auto_seconds* (0 = never). Any user action interrupts the loop with a rerun, which starts it again at the
    end of the page."""
    while ctx.state.playing:
        snap = processor.snapshot()
        status.markdown(live_mood.status_text(snap))
        details.markdown(live_mood.details_text(snap))
        if auto_seconds > 0 and not st.session_state.get(_AUTO_DONE) and snap.stable_for >= auto_seconds:
            st.session_state[_AUTO_DONE] = True
            if live_mood.confirm_reading(user_id, processor, auto=True):
                st.rerun()
        time.sleep(POLL_S)
