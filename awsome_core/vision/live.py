"""Live video: analyse webcam frames as fast as the CPU allows, smooth the reading, draw it on the frame.

One :class:`LiveProcessor` per browser session (never shared between users). streamlit-webrtc calls
:meth:`LiveProcessor.process` from its own worker thread for each frame; the Streamlit script thread calls
:meth:`LiveProcessor.snapshot` to read the smoothed mood. Every method is thread-safe (one lock guards the
meters; results go through a :class:`~awsome_core.vision.smoothing.LatestResult`), and none of them touches
Streamlit, a session or the database.

Conventions: frames are BGR ``uint8`` H×W×3 (OpenCV order); probabilities follow
:data:`awsome_core.emotions.EMOTIONS`; times are ``clock()`` seconds (``time.monotonic`` by default).

Adaptive frame skipping: a frame is analysed (detect + classify) only if no analysis is running and the
analyses so far, at their measured average cost, would stay under ``cpu_share`` of wall time. Other frames
get the latest boxes and bars drawn on them (about 0.5 ms), so the video keeps its frame rate when the CPU is
busy and only the analysis rate drops. ``scripts/bench_vision.py`` prints what one 640×480 analysis costs; at
15 fps it is a small share of a core, so every frame is analysed unless the machine is loaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from awsome_core.emotions import EMOTION_COLORS, EMOTIONS, to_probability_dict
from awsome_core.vision.analyze import FaceEmotion, analyze_image
from awsome_core.vision.classifier import EmotionClassifier
from awsome_core.vision.detector import Box
from awsome_core.vision.overlay import FONT, draw_faces, draw_probability_bars, hex_to_bgr
from awsome_core.vision.smoothing import LatestResult, ProbabilitySmoother

logger = logging.getLogger(__name__)

PANEL_WIDTH = 240  # the bars panel, pixels
FACE_MARGIN = (8, 26)  # (x, y) pixels around a face box kept clear of the panel: its label above (or below) it

Analyzer = Callable[..., list[FaceEmotion]]  # analyze_image's signature


@dataclass(frozen=True)
class LiveReading:
    """One analysed frame: its faces (largest first) and the smoothed probabilities after it (or None)."""

    faces: tuple[FaceEmotion, ...]
    smoothed: dict[str, float] | None


@dataclass(frozen=True)
class LiveSnapshot:
    """What the script thread sees of a live stream.

    :ivar probabilities: smoothed probabilities of the largest face, ``None`` when no face was analysed
        within the processor's ``max_age`` seconds.
    :ivar face_count: faces in the latest analysed frame.
    :ivar fps: analysed frames per second over the last ``fps_window`` seconds (0 until two were analysed).
    :ivar age: seconds since a face was last analysed (``None`` if never).
    :ivar stable_for: seconds the smoothed top emotion has stayed the same (0 without a face).
    :ivar frames_in: frames received; ``frames_analyzed`` of them were analysed, the rest skipped.
    """

    probabilities: dict[str, float] | None
    face_count: int
    fps: float
    age: float | None
    stable_for: float
    frames_in: int
    frames_analyzed: int

    @property
    def top_emotion(self) -> str | None:
        """The most probable smoothed emotion, or ``None`` without a recent face."""
        if self.probabilities is None:
            return None
        return max(EMOTIONS, key=lambda e: self.probabilities[e] if self.probabilities else 0.0)

    @property
    def confidence(self) -> float:
        """Smoothed probability of :attr:`top_emotion` (0 without a recent face)."""
        top = self.top_emotion
        return self.probabilities[top] if top and self.probabilities else 0.0


class LiveProcessor:
    """Per-stream frame processor: adaptive frame skipping, smoothing, overlays and meters. Thread-safe.

    :param classifier: the emotion model (its ``predict`` is thread-safe, so one model serves all sessions).
    :param tau: smoothing time constant in seconds (the reading follows the face over about a second).
    :param cpu_share: the most of wall time analyses may take, measured (0 < share ≤ 1).
    :param max_fps: analyse at most this many frames per second on average (None: as many as come), the rest
        get the latest boxes drawn; a token bucket, so 12 of a 15 fps stream's frames are analysed, not 7.5.
    :param detect_every: run the face detector on one analysed frame in n only; the others classify the
        faces in the boxes of the previous analysed frame (a face moves little in 1/12 s), and any frame
        after one without a face runs the detector, so a face coming into view is found at once.
    :param alternate_flip: classify each analysed frame in one view only, the faces and their mirror images
        in turn, with the model's TTA off: the model runs once per face instead of twice, and the smoothed
        reading (``tau`` spans about a dozen frames) averages both views as "flip" TTA does on every frame.
        For a classifier that serves "flip" (``ui/live.py``).
    :param max_age: a face older than this many seconds no longer counts (boxes vanish, snapshot says none).
    :param analyze: ``analyze_image``-compatible function (tests inject slow or fake ones).
    :param clock: monotonic seconds (tests inject a fake clock).
    """

    def __init__(
        self,
        classifier: EmotionClassifier,
        *,
        tau: float = 1.0,
        max_faces: int = 3,
        cpu_share: float = 0.5,
        max_fps: float | None = None,
        detect_every: int = 1,
        alternate_flip: bool = False,
        max_age: float = 2.0,
        fps_window: float = 2.0,
        analyze: Analyzer = analyze_image,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < cpu_share <= 1:
            raise ValueError("cpu_share must be in (0, 1]")
        if max_fps is not None and max_fps <= 0:
            raise ValueError("max_fps must be positive")
        if detect_every < 1:
            raise ValueError("detect_every must be at least 1")
        self.detect_every, self.alternate_flip = detect_every, alternate_flip
        self.classifier, self.max_faces, self.cpu_share, self.max_fps = classifier, max_faces, cpu_share, max_fps
        self.max_age, self.fps_window = max_age, fps_window
        self._analyze, self._clock = analyze, clock
        self._smoother = ProbabilitySmoother(tau, reset_after=max_age, clock=clock)
        self.latest: LatestResult[LiveReading] = LatestResult(clock=clock)
        self._busy = threading.Lock()  # held while one frame is being analysed
        self._lock = threading.Lock()  # guards the meters below
        self._panel_at = (0, 0)  # where the bars panel is drawn (top-left corner), see place_panel
        self._reset_meters()

    def _reset_meters(self) -> None:
        self._cost = 0.0  # moving average of one analysis, seconds
        self._last_start: float | None = None
        self._analysed_at: deque[float] = deque()
        self._frames_in = self._frames_analyzed = 0
        self._reused = 0  # analysed frames since the detector last ran (detect_every)
        self._mirror = False  # the view the next analysed frame is classified in (alternate_flip)
        self._credit = 1.0  # max_fps token bucket: analyses allowed now ...
        self._credit_at: float | None = None  # ... and when it was last refilled
        self._last_face_at: float | None = None
        self._stable_top: str | None = None
        self._stable_since = 0.0

    # ------------------------------------------------------------------ webrtc thread

    def process(self, image_bgr: np.ndarray) -> np.ndarray:
        """Analyse *image_bgr* if the CPU budget allows, then draw boxes, labels, the 7 bars and the mood
        onto it (in place; the bars in a corner where they cover no face, :func:`place_panel`) and return
        it. Never raises: on an error the frame is returned as it came and the error is logged."""
        try:
            now = self._clock()
            with self._lock:
                self._frames_in += 1
                due = self._last_start is None or now - self._last_start >= self._cost / self.cpu_share
                due = self._refill(now) and due
            if due and self._busy.acquire(blocking=False):
                try:
                    if self.max_fps is not None:
                        with self._lock:
                            self._credit -= 1.0
                    self._analyse(image_bgr, now)
                finally:
                    self._busy.release()
            self._draw(image_bgr)
        except Exception:  # the video must go on; a broken frame is logged, not raised into aiortc
            logger.exception("live frame processing failed")
        return image_bgr

    def _refill(self, now: float) -> bool:
        """Add the credit earned since the last frame (``max_fps`` per second, kept up to 2 so that a fraction
        earned on a skipped frame is not lost); True if one analysis is allowed now. Always True without
        ``max_fps``. Call with ``_lock`` held."""
        if self.max_fps is None:
            return True
        if self._credit_at is not None:
            self._credit = min(2.0, self._credit + (now - self._credit_at) * self.max_fps)
        self._credit_at = now
        return self._credit >= 1.0

    def _analyse(self, image_bgr: np.ndarray, start: float) -> None:
        previous = self.latest.get(max_age=self.max_age)
        # NOTE: one analysis at a time (the _busy lock), so _reused and _mirror need no other lock.
        known = [f.box for f in previous.faces] if previous is not None else []
        reuse = bool(known) and self._reused < self.detect_every - 1
        self._reused = self._reused + 1 if reuse else 0
        views: dict[str, Any] = {}
        if self.alternate_flip:
            views, self._mirror = {"tta": "none", "mirror": self._mirror}, not self._mirror
        faces = self._analyze(
            image_bgr,
            classifier=self.classifier,
            max_faces=self.max_faces,
            small_faces=False,
            boxes=known if reuse else None,
            trusted=known,  # the faces just seen need no second look when found again (face_check)
            **views,
        )
        end = self._clock()
        smoothed = None
        if faces:
            smoothed = to_probability_dict(
                self._smoother.update(list(faces[0].probabilities.values()), now=end).tolist()
            )
        with self._lock:
            cost = max(end - start, 0.0)
            self._cost = cost if self._frames_analyzed == 0 else 0.8 * self._cost + 0.2 * cost
            self._last_start = start
            self._frames_analyzed += 1
            self._analysed_at.append(end)
            while self._analysed_at and self._analysed_at[0] < end - self.fps_window:
                self._analysed_at.popleft()
            if smoothed is not None:
                self._last_face_at = end
                top = max(EMOTIONS, key=smoothed.__getitem__)
                if top != self._stable_top:
                    self._stable_top, self._stable_since = top, end
            else:
                self._stable_top = None
        self.latest.set(LiveReading(tuple(faces), smoothed))

    def _draw(self, frame: np.ndarray) -> None:
        stamped = self.latest.get_stamped()
        fresh = stamped is not None and stamped.age(self._clock()) <= self.max_age
        faces: Sequence[FaceEmotion] = stamped.value.faces if stamped and fresh else ()
        smoothed = stamped.value.smoothed if stamped and fresh else None
        # NOTE: one frame at a time from the webrtc worker (the API's stream awaits each), so no lock.
        self._panel_at = place_panel(frame.shape, [f.box for f in faces], current=self._panel_at)
        draw_probability_bars(frame, smoothed or {}, inplace=True, width=PANEL_WIDTH, origin=self._panel_at)
        draw_faces(frame, faces, inplace=True)
        _draw_status(frame, smoothed, self._panel_at)

    def reset(self) -> None:
        """Forget the stream (call when it ends): smoothed reading, boxes and meters."""
        self._smoother.reset()
        self.latest.clear()
        with self._lock:
            self._reset_meters()

    # ------------------------------------------------------------------ script thread

    def snapshot(self) -> LiveSnapshot:
        """The current smoothed reading and meters (safe to call from any thread)."""
        now = self._clock()
        with self._lock:
            recent = [t for t in self._analysed_at if t >= now - self.fps_window]
            # n analyses in the window span n - 1 intervals (no analysis in the window: 0)
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
            age = None if self._last_face_at is None else now - self._last_face_at
            frames_in, analysed = self._frames_in, self._frames_analyzed
            stable_for = now - self._stable_since if self._stable_top is not None else 0.0
        reading = self.latest.get(max_age=self.max_age)
        fresh = age is not None and age <= self.max_age
        probabilities = reading.smoothed if reading is not None and fresh else None
        if probabilities is None:
            stable_for = 0.0
        face_count = len(reading.faces) if reading is not None else 0
        return LiveSnapshot(probabilities, face_count, fps, age, stable_for, frames_in, analysed)


def _row(height: int) -> int:
    """Row height of the bars panel for a frame *height* pixels tall (as ``draw_probability_bars``)."""
    return max(12, min(22, height // 20))


def panel_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(width, height)`` of what :class:`LiveProcessor` draws in a corner: the 7 bars and the mood line."""
    row = _row(shape[0])
    return min(PANEL_WIDTH, shape[1]), min(shape[0], row * len(EMOTIONS) + 6 + row + 6)


def _covered(origin: tuple[int, int], size: tuple[int, int], boxes: Sequence[Box]) -> int:
    """Pixels of the boxes (grown by :data:`FACE_MARGIN` for their labels) that the panel would cover."""
    (x0, y0), (mx, my) = origin, FACE_MARGIN
    x1, y1 = x0 + size[0], y0 + size[1]
    area = 0
    for b in boxes:
        bx0, by0, bx1, by1 = b.x - mx, b.y - my, b.x + b.w + mx, b.y + b.h + my
        area += max(0, min(x1, bx1) - max(x0, bx0)) * max(0, min(y1, by1) - max(y0, by0))
    return area


def panel_corners(shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """The panel's candidate positions, in order of preference: top-left, top-right, bottom-left, bottom-right."""
    (w, h), (fw, fh) = panel_size(shape), (shape[1], shape[0])
    return [(0, 0), (fw - w, 0), (0, fh - h), (fw - w, fh - h)]


def place_panel(shape: tuple[int, ...], boxes: Sequence[Box], *, current: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """Where to draw the bars panel so that it covers no face: *current* while it covers none (so the panel
    does not jump about), else the first corner of :func:`panel_corners` that covers none, else the corner
    covering the least of them. Boxes include their label (:data:`FACE_MARGIN` around each)."""
    size, corners = panel_size(shape), panel_corners(shape)
    if current in corners and _covered(current, size, boxes) == 0:
        return current
    return min(corners, key=lambda c: (_covered(c, size, boxes), corners.index(c)))


def _draw_status(frame: np.ndarray, smoothed: dict[str, float] | None, origin: tuple[int, int]) -> None:
    """Below the bars (inside the panel at *origin*): the current mood in its colour, or "no face"."""
    row = _row(frame.shape[0])
    x, y = origin[0] + 5, origin[1] + row * len(EMOTIONS) + 6 + row - 4
    scale = row / 30
    if smoothed:
        top = max(EMOTIONS, key=smoothed.__getitem__)
        text, colour = f"mood: {top} {100 * smoothed[top]:.0f}%", hex_to_bgr(EMOTION_COLORS[top])
    else:
        text, colour = "no face", (200, 200, 200)
    cv2.putText(frame, text, (x, y), FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(frame, text, (x, y), FONT, scale, colour, 1, cv2.LINE_AA)


__all__ = ["LiveProcessor", "LiveReading", "LiveSnapshot", "panel_corners", "panel_size", "place_panel"]
