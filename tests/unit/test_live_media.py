"""The Live page's frame conversions and the VP8 encoder it installs in aiortc (ui/live_media.py)."""

from __future__ import annotations

import fractions

import av
import cv2
import numpy as np
import pytest
from aiortc import rtcrtpsender
from aiortc.codecs.vpx import MAX_BITRATE, Vp8Decoder, Vp8Encoder, vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from skimage import data

from ui import live_media
from ui.live_media import ENCODER_OPTIONS, LightVp8Encoder, bgr_to_frame, frame_to_bgr, use_light_vp8_encoder

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


@pytest.fixture
def image() -> np.ndarray:
    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))


def test_frames_convert_as_pyav_would(image: np.ndarray) -> None:
    """OpenCV's I420 conversions give PyAV's (swscale's) colours to within rounding, both ways."""
    frame = bgr_to_frame(image)
    assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (640, 480)
    theirs = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
    ours_bgr, their_bgr = frame_to_bgr(theirs), theirs.to_ndarray(format="bgr24")
    assert np.abs(ours_bgr.astype(int) - their_bgr).mean() < 2
    assert np.abs(frame.to_ndarray().astype(int) - theirs.to_ndarray()).mean() < 2
    assert cv2.PSNR(frame_to_bgr(frame), image) > 30  # a round trip keeps the picture


def test_odd_sized_frames_fall_back_to_pyav() -> None:
    odd = np.full((241, 321, 3), 128, np.uint8)
    frame = bgr_to_frame(odd)
    assert frame.format.name == "bgr24"
    assert frame_to_bgr(frame).shape == odd.shape


def _encode(encoder: Vp8Encoder, image: np.ndarray, n: int = 4) -> list[bytes]:
    """The VP8 bitstream of *n* frames of *image* with a little noise (the same noise for every encoder)."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        noisy = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
        frame = bgr_to_frame(noisy)
        frame.pts, frame.time_base = i * 6000, fractions.Fraction(1, 90000)
        out.append(b"".join(vp8_depayload(p) for p in encoder.encode(frame)[0]))
    return out


def test_aiortc_senders_get_the_light_encoder_and_its_options_take_effect(image: np.ndarray) -> None:
    use_light_vp8_encoder()
    use_light_vp8_encoder()  # idempotent
    encoder = rtcrtpsender.get_encoder(VP8)  # the name aiortc's RTCRtpSender looks up when a track starts
    assert isinstance(encoder, LightVp8Encoder)
    ours = _encode(encoder, image)
    assert encoder.codec.is_open
    # libvpx is deterministic: aiortc's encoder gives the same bits twice, and other bits without the denoiser
    assert _encode(Vp8Encoder(), image) == _encode(Vp8Encoder(), image)
    assert ours != _encode(Vp8Encoder(), image)
    decoded = Vp8Decoder().decode(JitterFrame(data=ours[0], timestamp=0))
    assert cv2.PSNR(frame_to_bgr(decoded[0]), image) > 25  # and what it sends is the picture


def test_its_finest_quantizer_sends_fewer_bits_for_the_same_picture(
    image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """qmin 8 instead of aiortc's 2: at aiortc's bitrate ceiling, where the quantizer floor is what binds, a
    panning picture takes fewer bytes a frame, and what is decoded from them looks the same (PSNR)."""
    sizes, quality = {}, {}
    for name, options in (("qmin 8", ENCODER_OPTIONS), ("qmin 2", {**ENCODER_OPTIONS, "qmin": "2"})):
        monkeypatch.setattr(live_media, "ENCODER_OPTIONS", options)
        encoder, decoder, total, psnr = LightVp8Encoder(), Vp8Decoder(), 0, []
        encoder.target_bitrate = MAX_BITRATE
        for i in range(10):
            shown = np.roll(image, 2 * i, axis=1)  # a slow pan, as the e2e clip
            frame = bgr_to_frame(shown)
            frame.pts, frame.time_base = i * 6000, fractions.Fraction(1, 90000)
            data = b"".join(vp8_depayload(p) for p in encoder.encode(frame)[0])
            total += len(data) if i else 0  # the frames after the keyframe
            psnr.append(cv2.PSNR(frame_to_bgr(decoder.decode(JitterFrame(data=data, timestamp=i * 6000))[0]), shown))
        sizes[name], quality[name] = total, float(np.mean(psnr[1:]))
    print(f"bytes after the keyframe {sizes}, their mean PSNR {quality}")
    assert ENCODER_OPTIONS["qmin"] == "8"
    assert sizes["qmin 8"] < 0.95 * sizes["qmin 2"]
    assert quality["qmin 8"] > quality["qmin 2"] - 1


def test_the_light_encoder_sets_its_options_on_each_context_before_it_opens() -> None:
    encoder = LightVp8Encoder()
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.options = {"noise-sensitivity": "4", "deadline": "realtime"}
    encoder.codec = ctx
    assert encoder.codec.options == {"deadline": "realtime", **ENCODER_OPTIONS}


def test_other_codecs_keep_aiortcs_encoders() -> None:
    use_light_vp8_encoder()
    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
    assert type(rtcrtpsender.get_encoder(opus)).__name__ == "OpusEncoder"


def test_a_rising_bitrate_estimate_opens_three_new_contexts_not_a_dozen(image: np.ndarray) -> None:
    """The receiver's estimate climbs about 4% a step for the first 20 s (the ramp below was recorded from a
    load_live stream); aiortc reopens its encoder, with a keyframe, on every 10% of it. The light encoder
    steps up by BITRATE_STEP; a falling estimate is still followed at once."""
    ramp = [int(500_000 * 1.04**i) for i in range(40)]  # 500 kbps → 2.3 Mbps, aiortc clamps at 1.5
    opened = {}
    for cls in (Vp8Encoder, LightVp8Encoder):
        encoder, contexts, last = cls(), 0, None
        for i, estimate in enumerate(ramp):
            encoder.target_bitrate = estimate
            frame = bgr_to_frame(image)
            frame.pts, frame.time_base = i * 6000, fractions.Fraction(1, 90000)
            encoder.encode(frame)
            contexts += encoder.codec is not last
            last = encoder.codec
        opened[cls.__name__] = contexts
        assert encoder.target_bitrate == 1_500_000  # both end at aiortc's maximum
    assert opened["LightVp8Encoder"] == 4 and opened["Vp8Encoder"] >= 8, opened  # the first + 3 steps
    light = LightVp8Encoder()
    light.target_bitrate = 800_000
    light.target_bitrate = 700_000  # congestion: followed
    assert light.target_bitrate == 700_000
    light.target_bitrate = 750_000  # a small rise: not yet
    assert light.target_bitrate == 700_000
