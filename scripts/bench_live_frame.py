"""What one live video frame costs the server, stage by stage, in one thread (issue #14).

Run::

    .venv/bin/python scripts/bench_live_frame.py            # prints a table: aiortc's defaults vs the Live page's
    .venv/bin/python scripts/bench_live_frame.py --json out.json

The e2e clip (``scripts/load_live.py``'s astronaut, 640×480) is VP8-encoded as a browser would send it,
then each frame goes through what the server does with it: VP8 decode, conversion to BGR, the Live page's
:class:`~awsome_core.vision.live.LiveProcessor` (``ui/live.py``'s settings: the analysed rate, detection every
other analysed frame, one view a frame), conversion back, VP8 encode. Two paths: ``aiortc`` (PyAV's
conversions, aiortc's VP8 encoder, flip TTA on every analysed frame) and ``page`` (``ui/live_media.py``, and
the processor as the page builds it). The processor's clock is a simulated 15 fps camera, so its token bucket
analyses the page's share of frames. Medians and means in ms per frame; ``scripts/load_live.py`` measures the
whole server (network, signalling, Streamlit) under real streams.
"""

from __future__ import annotations

import argparse
import fractions
import json
import statistics
import sys
import time
from pathlib import Path

import av

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, vp8_depayload  # noqa: E402
from aiortc.jitterbuffer import JitterFrame  # noqa: E402

from awsome_core.vision import get_classifier  # noqa: E402
from awsome_core.vision.classifier import serving_tta  # noqa: E402
from awsome_core.vision.live import LiveProcessor  # noqa: E402
from awsome_core.vision.threads import use_one_opencv_thread  # noqa: E402
from scripts.load_live import FPS, make_frames  # noqa: E402
from ui.live import ANALYSED_FPS, DETECT_EVERY  # noqa: E402
from ui.live_media import LightVp8Encoder, bgr_to_frame, frame_to_bgr  # noqa: E402

STAGES = ("decode", "to_bgr", "process", "from_bgr", "encode")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(path: str, rounds: int) -> dict[str, dict[str, float]]:
    use_one_opencv_thread()  # as the server runs it
    frames = make_frames()
    model = get_classifier(str(PROJECT_ROOT / "models" / "emotion.tflite"))
    model = model.with_tta(serving_tta(model.card, "live"))
    clock = Clock()
    page = path == "page"
    processor = LiveProcessor(
        model, max_fps=ANALYSED_FPS, detect_every=DETECT_EVERY, alternate_flip=page and model.tta == "flip", clock=clock
    )
    browser, decoder, encoder = Vp8Encoder(), Vp8Decoder(), LightVp8Encoder() if page else Vp8Encoder()
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for r in range(rounds + 1):  # the first round warms up
        for i, image in enumerate(frames):
            sent = av.VideoFrame.from_ndarray(image, format="bgr24")
            sent.pts, sent.time_base = (r * len(frames) + i) * 6000, fractions.Fraction(1, 90000)
            payloads, timestamp = browser.encode(sent)
            data = b"".join(vp8_depayload(p) for p in payloads)
            clock.now = (r * len(frames) + i) / FPS
            t0 = time.perf_counter()
            (frame,) = decoder.decode(JitterFrame(data=data, timestamp=timestamp))
            t1 = time.perf_counter()
            bgr = frame_to_bgr(frame) if page else frame.to_ndarray(format="bgr24")
            t2 = time.perf_counter()
            bgr = processor.process(bgr)
            t3 = time.perf_counter()
            back = bgr_to_frame(bgr) if page else av.VideoFrame.from_ndarray(bgr, format="bgr24")
            back.pts, back.time_base = frame.pts, frame.time_base
            t4 = time.perf_counter()
            encoder.encode(back)
            t5 = time.perf_counter()
            if r:
                for stage, a, b in zip(STAGES, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5), strict=True):
                    times[stage].append(1000 * (b - a))
    out = {s: {"median_ms": statistics.median(v), "mean_ms": statistics.mean(v)} for s, v in times.items()}
    out["total"] = {
        "median_ms": sum(v["median_ms"] for v in out.values()),
        "mean_ms": sum(v["mean_ms"] for v in out.values()),
    }
    snap = processor.snapshot()
    out["analysed_share"] = {"median_ms": snap.frames_analyzed / max(snap.frames_in, 1), "mean_ms": 0.0}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="passes over the 60-frame clip (after a warm-up)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = {path: run(path, args.rounds) for path in ("aiortc", "page")}
    print(f"{'stage':10s} {'aiortc mean ms':>15s} {'page mean ms':>13s}")
    for stage in (*STAGES, "total"):
        print(f"{stage:10s} {results['aiortc'][stage]['mean_ms']:15.2f} {results['page'][stage]['mean_ms']:13.2f}")
    share = results["page"]["analysed_share"]["median_ms"]
    before, after = (results[p]["total"]["mean_ms"] * FPS for p in ("aiortc", "page"))
    print(f"frames analysed: {share:.0%}; at {FPS} fps a stream's frames cost {before:.0f} → {after:.0f} ms CPU per s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
