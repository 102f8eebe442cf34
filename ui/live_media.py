"""The Live page's media path around the analysis: frame conversions and the VP8 encoder of the video sent back.

What one 640×480 frame cost the server before issue #14's live pass, besides the analysis (``scripts/
bench_live_frame.py`` prints the current figures): decoding 1.1 ms, PyAV's ``yuv420p → bgr24`` 0.3 ms,
``bgr24 → VideoFrame → yuv420p`` 1.2 ms, and aiortc's VP8 encoding 5 ms, of which 3 ms were libvpx's temporal
denoiser (``noise-sensitivity 4``).

* Conversions: the decoder gives I420 (``yuv420p``) frames; OpenCV converts them to and from BGR directly
  (4–5× faster than PyAV's swscale path, the same colours to within rounding, see the unit test), and the
  encoder gets I420 back, so it has no conversion of its own to do.
* Encoder: :func:`use_light_vp8_encoder` makes aiortc's senders use :class:`LightVp8Encoder`: aiortc's own
  VP8 encoder with the denoiser off. The frames it encodes are the browser's own VP8 video decoded, so the
  camera noise the denoiser is for has already been filtered; on the e2e clip the video sent back measured
  the same PSNR or better without it (+1.8 dB clean, +0.3 dB at σ = 3 added noise, −0.6 dB at σ = 6) at the
  same bitrate. Its finest quantizer is 8 instead of aiortc's 2 (``qmin``; libvpx's scale goes to 63): a
  picture the browser has already VP8-encoded once gains nothing visible from being copied at q 2. On the
  e2e clip with the page's overlays, at aiortc's 1.5 Mbps ceiling, q ≥ 8 sent half the bits (1.1 → 0.57 Mbps:
  half the RTP packets to protect and send) and still measured 47 dB PSNR against the frame it encoded
  (51 dB at q 2); libvpx also spent less time per frame.

Frames are BGR ``uint8`` H×W×3 as in :mod:`awsome_core.vision.live`.
"""

from __future__ import annotations

import logging
from typing import Any

import av
import cv2
import numpy as np
from aiortc import rtcrtpsender
from aiortc.codecs import get_encoder
from aiortc.codecs.vpx import MAX_BITRATE, Vp8Encoder

logger = logging.getLogger(__name__)

#: libvpx options that replace aiortc's for the video sent back (see the module docstring).
ENCODER_OPTIONS = {"noise-sensitivity": "0", "qmin": "8"}
#: The encoder follows the receiver's bitrate estimate only in steps of this factor (see LightVp8Encoder).
BITRATE_STEP = 1.5


def frame_to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """*frame* as a BGR ``uint8`` array (a new one, safe to draw on)."""
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


def bgr_to_frame(image: np.ndarray) -> av.VideoFrame:
    """A BGR ``uint8`` array as a ``yuv420p`` frame when its sides are even (what the encoder takes), else
    as a ``bgr24`` frame (the encoder converts it). pts and time base are the caller's to set."""
    height, width = image.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    return av.VideoFrame.from_ndarray(image, format="bgr24")


class LightVp8Encoder(Vp8Encoder):  # type: ignore[misc]  # aiortc has no type information
    """aiortc's VP8 encoder with :data:`ENCODER_OPTIONS` applied to each codec context it opens, and its
    bitrate changed in steps of :data:`BITRATE_STEP`.

    aiortc creates the libvpx context lazily, sets its options and opens it on the first ``encode`` (again
    after a size or bitrate change), all inside one method; ``codec`` is therefore a property here, and its
    getter puts :data:`ENCODER_OPTIONS` over aiortc's before the context is opened.

    Bitrate: aiortc opens a new context, whose first frame is a keyframe (about 20 KB at 640×480, 5× the
    CPU of a frame), whenever the receiver's estimate moves the target by more than 10%. The estimate climbs
    by about 4% a step for the first 20 s of a stream, so a stream started with a dozen new contexts and
    keyframes (quality pulses the user sees). ``target_bitrate`` here follows a rising estimate only once it
    is :data:`BITRATE_STEP` times the current target, or aiortc's maximum: 500 → 750+ → 1125+ → 1500 kbps,
    three new contexts; a falling estimate (congestion) is followed at once, as aiortc does.
    """

    _context: Any = None

    @property  # type: ignore[override]
    def target_bitrate(self) -> int:
        return int(Vp8Encoder.target_bitrate.fget(self))

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        current = self.target_bitrate
        # down at once: the link may be congested (aiortc still ignores changes under 10%); up in steps, the
        # last one to aiortc's maximum when the estimate reaches it
        if bitrate < current or bitrate >= min(current * BITRATE_STEP, MAX_BITRATE):
            Vp8Encoder.target_bitrate.fset(self, int(bitrate))

    @property  # type: ignore[override]
    def codec(self) -> Any:
        ctx = self._context
        if ctx is not None and not ctx.is_open and any(ctx.options.get(k) != v for k, v in ENCODER_OPTIONS.items()):
            ctx.options = {**ctx.options, **ENCODER_OPTIONS}
        return ctx

    @codec.setter
    def codec(self, ctx: Any) -> None:
        self._context = ctx


def _get_encoder(codec: Any) -> Any:
    if str(codec.mimeType).lower() == "video/vp8":
        return LightVp8Encoder()
    return get_encoder(codec)


def use_light_vp8_encoder() -> None:
    """Make aiortc's RTP senders (streamlit-webrtc's, in this process) encode VP8 with :class:`LightVp8Encoder`.

    Idempotent. aiortc's sender looks its encoder up as ``aiortc.rtcrtpsender.get_encoder`` when a track
    starts; ``tests/unit/test_live_media.py`` checks that this still holds for the installed aiortc.
    """
    if rtcrtpsender.get_encoder is not _get_encoder:
        rtcrtpsender.get_encoder = _get_encoder
        logger.info("live video: VP8 encoder options %s", ENCODER_OPTIONS)


__all__ = [
    "BITRATE_STEP",
    "ENCODER_OPTIONS",
    "LightVp8Encoder",
    "bgr_to_frame",
    "frame_to_bgr",
    "use_light_vp8_encoder",
]
