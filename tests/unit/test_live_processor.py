"""LiveProcessor: per-stream analysis of live frames, adaptive skipping, smoothing, overlays and meters."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from skimage import data

from awsome_core.config import PROJECT_ROOT
from awsome_core.emotions import EMOTION_COLORS, EMOTIONS
from awsome_core.vision import Box, FaceEmotion, get_classifier
from awsome_core.vision.live import FACE_MARGIN, LiveProcessor, panel_corners, panel_size, place_panel
from awsome_core.vision.overlay import hex_to_bgr

MODEL = PROJECT_ROOT / "models" / "emotion.tflite"
FRAME_DT = 1 / 15  # the webcam clip's frame interval
HAPPY = {e: (0.94 if e == "happy" else 0.01) for e in EMOTIONS}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAnalyzer:
    """analyze_image stand-in: one happy face, taking *cost* seconds of the fake clock per call."""

    def __init__(self, clock: FakeClock, cost: float) -> None:
        self.clock, self.cost, self.calls = clock, cost, 0

    def __call__(self, image: np.ndarray, **_: object) -> list[FaceEmotion]:
        self.calls += 1
        self.clock.now += self.cost
        return [FaceEmotion(Box(300, 100, 120, 120), dict(HAPPY))]


def astronaut_frame(x: int = 200) -> np.ndarray:
    """A 640×480 webcam-like frame with the astronaut's (smiling) face, as the e2e clip has it."""
    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (400, 400))
    frame = np.full((480, 640, 3), 40, np.uint8)
    frame[40:440, x : x + 400] = face
    return frame


def colour_pixels(frame: np.ndarray, emotion: str, *, tol: int = 10) -> int:
    target = np.array(hex_to_bgr(EMOTION_COLORS[emotion]), np.int16)
    return int((np.abs(frame.astype(np.int16) - target).max(axis=2) <= tol).sum())


def run_frames(processor: LiveProcessor, clock: FakeClock, n: int, frames: list[np.ndarray] | None = None) -> None:
    """Frame i arrives at start + i/15 s, or when the previous call returned if that was later (as from
    streamlit-webrtc, which hands the callback the newest frame once it is free). Ends one interval after."""
    start = clock.now
    for i in range(n):
        clock.now = max(clock.now, start + i * FRAME_DT)
        processor.process(frames[i] if frames else np.zeros((480, 640, 3), np.uint8))
    clock.now = max(clock.now, start + n * FRAME_DT)


@pytest.fixture(scope="module")
def classifier():
    if not MODEL.is_file():
        pytest.skip(f"{MODEL} not found (run `awsome export`)")
    return get_classifier(str(MODEL))


def test_live_processor_reads_happy_from_the_astronaut_and_draws_it(classifier) -> None:
    clock = FakeClock()
    processor = LiveProcessor(classifier, clock=clock)
    frames = [astronaut_frame(x) for x in (200, 210, 220, 230, 240)]
    before = colour_pixels(frames[-1][:, 260:], "happy")
    run_frames(processor, clock, 5, frames)
    assert processor.process(frames[-1]) is frames[-1]  # drawn in place, no copy per frame
    snap = processor.snapshot()
    assert snap.top_emotion == "happy"
    assert snap.face_count == 1
    assert snap.frames_in == snap.frames_analyzed == 6  # 2-3 ms each: nothing skipped
    assert sum(snap.probabilities.values()) == pytest.approx(1.0)
    assert snap.age is not None and snap.age < 2
    # box and label in happy's colour, right of the bars panel
    assert colour_pixels(frames[-1][:, 260:], "happy") > before + 500


def test_live_processor_without_a_face_has_no_reading(classifier) -> None:
    processor = LiveProcessor(classifier)
    processor.process(np.full((480, 640, 3), 40, np.uint8))
    snap = processor.snapshot()
    assert snap.probabilities is None and snap.top_emotion is None and snap.confidence == 0.0
    assert (snap.face_count, snap.frames_in, snap.frames_analyzed, snap.age) == (0, 1, 1, None)


def test_live_processor_skips_frames_when_analysis_is_slow() -> None:
    clock = FakeClock()
    slow = FakeAnalyzer(clock, cost=0.2)  # 3 frame intervals per analysis
    processor = LiveProcessor(None, analyze=slow, clock=clock, cpu_share=0.5)
    run_frames(processor, clock, 150)  # 10 s of 15 fps video
    snap = processor.snapshot()
    assert snap.frames_in == 150
    # 0.2 s per analysis at most half of the time: one every 0.4 s, i.e. 2.5 per second
    assert 20 <= slow.calls <= 26
    assert snap.frames_analyzed == slow.calls
    assert snap.fps == pytest.approx(2.5, abs=0.6)
    assert snap.top_emotion == "happy"


def test_live_processor_analyses_every_frame_when_analysis_is_fast() -> None:
    clock = FakeClock()
    fast = FakeAnalyzer(clock, cost=0.003)
    processor = LiveProcessor(None, analyze=fast, clock=clock)
    run_frames(processor, clock, 60)
    snap = processor.snapshot()
    assert fast.calls == snap.frames_analyzed == 60
    assert snap.fps == pytest.approx(15, abs=0.5)


def test_live_processor_skips_a_frame_while_another_is_being_analysed() -> None:
    entered, release = threading.Event(), threading.Event()
    calls = []

    def blocking(image: np.ndarray, **_: object) -> list[FaceEmotion]:
        calls.append(1)
        entered.set()
        release.wait(5)
        return []

    processor = LiveProcessor(None, analyze=blocking)
    worker = threading.Thread(target=processor.process, args=(np.zeros((480, 640, 3), np.uint8),))
    worker.start()
    assert entered.wait(5)
    processor.process(np.zeros((480, 640, 3), np.uint8))  # returns at once: skipped, not queued
    release.set()
    worker.join(5)
    assert len(calls) == 1
    assert processor.snapshot().frames_in == 2


def test_live_processor_forgets_a_face_after_max_age() -> None:
    clock = FakeClock()
    processor = LiveProcessor(None, analyze=FakeAnalyzer(clock, 0.003), clock=clock, max_age=2.0)
    run_frames(processor, clock, 5)
    assert processor.snapshot().top_emotion == "happy"
    clock.now += 2.5
    snap = processor.snapshot()
    assert snap.probabilities is None and snap.stable_for == 0.0 and snap.fps == 0.0
    assert snap.age == pytest.approx(2.5 + FRAME_DT, abs=0.01)


def test_live_processor_measures_how_long_the_mood_is_stable() -> None:
    clock = FakeClock()
    processor = LiveProcessor(None, analyze=FakeAnalyzer(clock, 0.003), clock=clock)
    run_frames(processor, clock, 46)  # 3 s
    assert processor.snapshot().stable_for == pytest.approx(3.0, abs=0.1)


def test_live_processor_never_raises_into_the_video_thread(caplog: pytest.LogCaptureFixture) -> None:
    def broken(image: np.ndarray, **_: object) -> list[FaceEmotion]:
        raise RuntimeError("boom")

    processor = LiveProcessor(None, analyze=broken)
    frame = np.zeros((480, 640, 3), np.uint8)
    assert processor.process(frame) is frame
    assert "live frame processing failed" in caplog.text


def test_live_processor_reset_forgets_the_stream() -> None:
    clock = FakeClock()
    processor = LiveProcessor(None, analyze=FakeAnalyzer(clock, 0.003), clock=clock)
    run_frames(processor, clock, 5)
    processor.reset()
    snap = processor.snapshot()
    assert (snap.probabilities, snap.frames_in, snap.frames_analyzed, snap.fps) == (None, 0, 0, 0.0)
    assert processor.latest.get() is None


def test_live_processor_rejects_a_bad_cpu_share() -> None:
    with pytest.raises(ValueError, match="cpu_share"):
        LiveProcessor(None, cpu_share=0)


def test_live_processor_max_fps_analyses_that_many_frames_of_a_faster_stream() -> None:
    clock = FakeClock()
    fast = FakeAnalyzer(clock, cost=0.003)
    processor = LiveProcessor(None, analyze=fast, clock=clock, max_fps=12)
    run_frames(processor, clock, 150)  # 10 s at 15 fps
    snap = processor.snapshot()
    assert snap.frames_in == 150
    assert 118 <= fast.calls == snap.frames_analyzed <= 122  # 12 per second, not every other frame (7.5)
    assert snap.fps == pytest.approx(12, abs=1.0)


def test_live_processor_refuses_a_non_positive_max_fps() -> None:
    with pytest.raises(ValueError, match="max_fps"):
        LiveProcessor(None, max_fps=0)


def test_live_processor_detect_every_reuses_the_previous_boxes_in_between() -> None:
    clock = FakeClock()
    seen: list[object] = []

    def analyze(image: np.ndarray, **kwargs: object) -> list[FaceEmotion]:
        seen.append(kwargs.get("boxes"))
        clock.now += 0.003
        return [FaceEmotion(Box(300, 100, 120, 120), dict(HAPPY))] if len(seen) != 3 else []

    processor = LiveProcessor(None, analyze=analyze, clock=clock, detect_every=2)
    run_frames(processor, clock, 6)
    detected = [b is None for b in seen]
    # 1st detects, 2nd reuses its box, 3rd detects (finds nothing), 4th must detect again, 5th reuses, 6th detects
    assert detected == [True, False, True, True, False, True]
    assert seen[1] == [Box(300, 100, 120, 120)]


# ---------------------------------------------------------------- where the bars panel goes (issue #15)

SHAPE = (480, 640, 3)


def _overlaps(origin: tuple[int, int], box: Box, shape: tuple[int, ...] = SHAPE) -> bool:
    (w, h), (x, y) = panel_size(shape), origin
    mx, my = FACE_MARGIN
    return x < box.x + box.w + mx and box.x - mx < x + w and y < box.y + box.h + my and box.y - my < y + h


def test_the_panel_stays_top_left_while_the_face_is_elsewhere() -> None:
    assert place_panel(SHAPE, []) == (0, 0)
    assert place_panel(SHAPE, [Box(300, 100, 150, 150)]) == (0, 0)


@pytest.mark.parametrize(
    ("box", "where"),
    [
        (Box(60, 60, 160, 160), "top-right"),  # the user sits left of centre: the face is where the panel was
        (Box(20, 20, 600, 150), "bottom-left"),  # a face across the top
        (Box(40, 0, 560, 480), "top-left"),  # a face filling the frame: nowhere is free; the least covered
    ],
)
def test_the_panel_moves_off_a_face(box: Box, where: str) -> None:
    corners = dict(zip(("top-left", "top-right", "bottom-left", "bottom-right"), panel_corners(SHAPE), strict=True))
    origin = place_panel(SHAPE, [box])
    assert origin == corners[where]
    if where != "top-left":
        assert not _overlaps(origin, box)


def test_the_panel_does_not_jump_back_while_its_corner_is_free() -> None:
    right = panel_corners(SHAPE)[1]
    assert place_panel(SHAPE, [Box(60, 60, 160, 160)]) == right
    assert place_panel(SHAPE, [Box(200, 200, 100, 100)], current=right) == right  # still free: stays
    assert place_panel(SHAPE, [Box(450, 40, 150, 150)], current=right) == (0, 0)  # the face went right


def test_the_processor_draws_the_panel_where_it_covers_no_face() -> None:
    """A happy face left of centre: the bars (happy's bar among them) are drawn top-right, the face's own
    pixels are left as they came, apart from its box and label."""
    clock = FakeClock()
    face = Box(60, 80, 160, 160)

    def analyze(image: np.ndarray, **_: object) -> list[FaceEmotion]:
        clock.now += 0.003
        return [FaceEmotion(face, dict(HAPPY))]

    processor = LiveProcessor(None, analyze=analyze, clock=clock)
    frame = np.full(SHAPE, 120, np.uint8)
    processor.process(frame)
    inside = frame[face.y + 4 : face.y + face.h - 4, face.x + 4 : face.x + face.w - 4]
    assert (inside == 120).all()  # not darkened by the panel, no bar on it
    x, _ = panel_corners(SHAPE)[1]
    w, h = panel_size(SHAPE)
    assert (frame[:h, x : x + w] < 120).mean() > 0.5  # the darkened panel, top-right
    assert colour_pixels(frame[:h, x:], "happy") > 200  # with happy's bar in it


# ---------------------------------------------------------------- issue #14: the cheaper live analysis


def test_alternate_flip_classifies_one_view_a_frame_in_turn_and_trusts_the_faces_just_seen() -> None:
    clock = FakeClock()
    calls: list[dict[str, object]] = []

    def analyze(image: np.ndarray, **kwargs: object) -> list[FaceEmotion]:
        calls.append(kwargs)
        clock.now += 0.003
        return [FaceEmotion(Box(300, 100, 120, 120), dict(HAPPY))]

    processor = LiveProcessor(None, analyze=analyze, clock=clock, alternate_flip=True)
    run_frames(processor, clock, 4)
    assert [(c["tta"], c["mirror"]) for c in calls] == [("none", False), ("none", True)] * 2
    assert calls[0]["trusted"] == [] and calls[1]["trusted"] == [Box(300, 100, 120, 120)]
    plain_calls: list[dict[str, object]] = []
    plain = LiveProcessor(None, analyze=lambda image, **kw: plain_calls.append(kw) or [], clock=clock)
    run_frames(plain, clock, 2)
    assert all("tta" not in c and "mirror" not in c for c in plain_calls)  # off: the classifier's own TTA


def test_alternate_flip_reads_what_flip_tta_reads_at_half_the_model_runs(classifier) -> None:
    """On a webcam-like clip the smoothed reading with one view a frame, alternating, is the reading with
    both views every frame (the card's "flip"), to within a few points."""
    frames = [astronaut_frame(200 + 4 * (i % 10)) for i in range(30)]
    readings = {}
    for name, model, alternate in (("flip", classifier.with_tta("flip"), False), ("alt", classifier, True)):
        clock = FakeClock()
        processor = LiveProcessor(model, clock=clock, alternate_flip=alternate)
        run_frames(processor, clock, len(frames), [f.copy() for f in frames])
        readings[name] = processor.snapshot().probabilities
    assert readings["flip"] is not None and readings["alt"] is not None
    assert max(abs(readings["flip"][e] - readings["alt"][e]) for e in EMOTIONS) < 0.03
    none_clock = FakeClock()
    one_view = LiveProcessor(classifier.with_tta("none"), clock=none_clock)
    run_frames(one_view, none_clock, len(frames), [f.copy() for f in frames])
    assert one_view.snapshot().probabilities != readings["alt"]  # the mirrored frames did count
