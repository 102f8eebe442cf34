"""Benchmark the face detector's precision and recall on real photos with and without faces.

Run::

    .venv/bin/python scripts/bench_detection.py             # photo mode, with and without the second look
    .venv/bin/python scripts/bench_detection.py --live      # live-video mode (no tiles)
    .venv/bin/python scripts/bench_detection.py --boxes     # also every box with its second-look scores

The image set (:func:`image_set`) is built from scikit-image's bundled sample photos (BSD/CC0/public
domain, see ``skimage/data/README.txt``): the astronaut and the cameraman (faces, at known places), scaled
and rolled copies of the astronaut (the recall tests' frames), group composites of them with face-free
photos (the rocket, coffee, the cat, coins), every face-free sample photo on its own (negatives), and
scikit-image's LFW subset (``data.lfw_subset()``: 100 real faces from Labeled Faces in the Wild and 100
face-free patches of the same photos, 25×25 grayscale, each shown at 120 px on a grey 360 px frame). A box
is a true face when its centre lies within half a face side of a face's centre. Prints one line per
setting::

    detection: recall R precision P fp_per_neg_image F (second look on|off)

``fp_per_neg_image`` is false boxes per face-free image; precision counts false boxes in every image.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awsome_core.vision import face_check  # noqa: E402
from awsome_core.vision.detector import NEAR_MODEL, Box, detect_faces, get_detector  # noqa: E402

logger = logging.getLogger("bench_detection")

FRAME = (640, 480)
ASTRONAUT_FACE = (227.0, 118.0, 110.0)  # centre x, y and framed side in skimage's 512×512 astronaut
CAMERAMAN_FACE = (238.0, 158.0, 95.0)  # the same in skimage's 512×512 camera (the cameraman)
#: scikit-image sample photos without a face (``skimage.data`` function names).
NEGATIVE_NAMES = (
    "rocket",
    "coffee",
    "chelsea",
    "coins",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "text",
    "retina",
    "logo",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
    "clock",
    "cell",
    "microaneurysms",
    "shepp_logan_phantom",
    "motorcycle_left",
    "motorcycle_right",
)


@dataclass(frozen=True)
class Sample:
    """One test image; ``faces`` are ``(centre x, centre y, side)`` of every face in it (empty: no face)."""

    name: str
    image: np.ndarray  # BGR uint8
    faces: tuple[tuple[float, float, float], ...]


def _bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype != np.uint8:
        image = (255 * (image - image.min()) / max(float(np.ptp(image)), 1e-9)).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2BGR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def _sample(name: str) -> np.ndarray:
    from skimage import data

    if name in ("motorcycle_left", "motorcycle_right"):
        left, right, _ = data.stereo_motorcycle()
        return _bgr(left if name == "motorcycle_left" else right)
    return _bgr(getattr(data, name)())


def in_frame(image: np.ndarray, face: tuple[float, float, float], scale: float, angle: float) -> Sample:
    """*image* scaled and rolled about its face, which lands at the centre of a 640×480 frame."""
    m = cv2.getRotationMatrix2D(face[:2], angle, scale)
    m[:, 2] += (FRAME[0] / 2 - face[0], FRAME[1] / 2 - face[1])
    framed = cv2.warpAffine(image, m, FRAME, borderValue=(40, 40, 40))
    return Sample(f"astronaut x{scale} {angle:+.0f}°", framed, ((FRAME[0] / 2, FRAME[1] / 2, face[2] * scale),))


def _paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int, side: int) -> float:
    """Paste *image* resized to width *side* at (x, y); return the scale applied."""
    scale = side / image.shape[1]
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h = min(resized.shape[0], canvas.shape[0] - y)
    canvas[y : y + h, x : x + side] = resized[:h]
    return scale


def composite(name: str, size: tuple[int, int], parts: list[tuple[str, int, int, int]]) -> Sample:
    """A group picture: each part ``(photo, x, y, width)`` pasted onto a grey canvas of *size* (w, h).

    Photos: ``"astronaut"``, ``"astronaut-head"`` (its 240×240 head crop), ``"camera"`` or any negative.
    """
    canvas = np.full((size[1], size[0], 3), 60, np.uint8)
    faces = []
    for photo, x, y, width in parts:
        if photo == "astronaut-head":
            image, face = _sample("astronaut")[20:260, 110:350], (117.0, 98.0, ASTRONAUT_FACE[2])
        elif photo in ("astronaut", "camera"):
            image, face = _sample(photo), ASTRONAUT_FACE if photo == "astronaut" else CAMERAMAN_FACE
        else:
            image, face = _sample(photo), None
        s = _paste(canvas, image, x, y, width)
        if face is not None:
            faces.append((x + face[0] * s, y + face[1] * s, face[2] * s))
    return Sample(name, canvas, tuple(faces))


def image_set() -> list[Sample]:
    """Every image of the benchmark, faces first (see the module docstring)."""
    astronaut, camera = _sample("astronaut"), _sample("camera")
    samples = [
        Sample("astronaut", astronaut, (ASTRONAUT_FACE,)),
        Sample("camera", camera, (CAMERAMAN_FACE,)),
        Sample("astronaut mirrored", astronaut[:, ::-1].copy(), ((512 - ASTRONAUT_FACE[0], *ASTRONAUT_FACE[1:]),)),
        Sample("camera mirrored", camera[:, ::-1].copy(), ((512 - CAMERAMAN_FACE[0], *CAMERAMAN_FACE[1:]),)),
    ]
    samples += [in_frame(astronaut, ASTRONAUT_FACE, s, a) for s in (0.5, 1.0, 2.0) for a in (-30, -15, 0, 15, 30)]
    samples += [
        composite(
            "group: 5 astronaut heads",
            (960, 540),
            [("astronaut-head", x, y, round(240 * s)) for x, y, s in _GROUP_SPOTS],
        ),
        composite(
            "group: astronauts, shuttle, cameraman",
            (1200, 600),
            [("astronaut-head", 0, 0, 300), ("astronaut-head", 0, 300, 300), ("rocket", 300, 0, 640)]
            + [("camera", 940, 0, 256)],
        ),
        composite(
            "group: cameraman, coffee, cat, astronaut",
            (1280, 720),
            [("camera", 0, 0, 400), ("coffee", 400, 0, 480), ("chelsea", 880, 0, 400), ("astronaut", 400, 330, 380)],
        ),
        composite(
            "group: small faces and coins",
            (1600, 900),
            [("coins", 0, 0, 800), ("astronaut-head", 850, 50, 160), ("astronaut-head", 1100, 100, 120)]
            + [("camera", 850, 400, 300), ("horse", 1200, 400, 400)],
        ),
    ]
    samples += [Sample(name, _sample(name), ()) for name in NEGATIVE_NAMES]
    samples.append(
        composite(
            "no face: rocket, coffee, cat, horse",
            (1280, 720),
            [("rocket", 0, 0, 640), ("coffee", 640, 0, 640), ("chelsea", 0, 430, 451), ("horse", 640, 400, 400)],
        )
    )
    return samples + lfw_samples()


_GROUP_SPOTS = ((20, 20, 1.0), (300, 40, 0.7), (520, 20, 0.5), (700, 250, 1.0), (300, 330, 0.8))
LFW_SIDE, LFW_FRAME = 120, 360


def lfw_samples() -> list[Sample]:
    """scikit-image's LFW subset: 100 faces (a face filling each 25×25 crop), then 100 face-free patches."""
    from skimage import data

    samples = []
    offset = (LFW_FRAME - LFW_SIDE) // 2
    for i, patch in enumerate(data.lfw_subset()):
        frame = np.full((LFW_FRAME, LFW_FRAME), 128, np.uint8)
        big = cv2.resize((patch * 255).astype(np.uint8), (LFW_SIDE, LFW_SIDE), interpolation=cv2.INTER_CUBIC)
        frame[offset : offset + LFW_SIDE, offset : offset + LFW_SIDE] = big
        face = ((LFW_FRAME / 2, LFW_FRAME / 2, float(LFW_SIDE)),) if i < 100 else ()
        samples.append(Sample(f"lfw {'face' if face else 'no face'} {i % 100}", _bgr(frame), face))
    return samples


def is_face(box: Box, faces: tuple[tuple[float, float, float], ...]) -> int | None:
    """Index of the face *box* lands on (centre within half a face side), or None."""
    bx, by = box.center
    for i, (fx, fy, side) in enumerate(faces):
        if max(abs(bx - fx), abs(by - fy)) <= side / 2:
            return i
    return None


@dataclass(frozen=True)
class Score:
    recall: float
    precision: float
    fp_per_neg_image: float
    false_boxes: dict[str, int]  # image name → false boxes in it
    missed: dict[str, int]  # image name → faces not found


def evaluate(samples: list[Sample], detect: Callable[[np.ndarray], list[Box]]) -> Score:
    """Recall over every face, precision over every box, false boxes per face-free image."""
    found_faces = total_faces = true_boxes = all_boxes = negative_fp = negatives = 0
    false_boxes: dict[str, int] = {}
    missed: dict[str, int] = {}
    for sample in samples:
        boxes = detect(sample.image)
        hits = {is_face(b, sample.faces) for b in boxes}
        wrong = sum(1 for b in boxes if is_face(b, sample.faces) is None)
        total_faces += len(sample.faces)
        found_faces += len(hits - {None})
        all_boxes += len(boxes)
        true_boxes += len(boxes) - wrong
        if wrong:
            false_boxes[sample.name] = wrong
        if len(hits - {None}) < len(sample.faces):
            missed[sample.name] = len(sample.faces) - len(hits - {None})
        if not sample.faces:
            negatives += 1
            negative_fp += wrong
    return Score(
        recall=found_faces / max(total_faces, 1),
        precision=true_boxes / max(all_boxes, 1),
        fp_per_neg_image=negative_fp / max(negatives, 1),
        false_boxes=false_boxes,
        missed=missed,
    )


def _without_second_look() -> mock._patch[Callable[..., list[Box]]]:
    return mock.patch.object(face_check, "confirm_faces", lambda image, boxes, **_: boxes)


def _print_boxes(samples: list[Sample], small_faces: bool) -> None:
    near = get_detector(NEAR_MODEL)
    with _without_second_look():
        for sample in samples:
            for b in detect_faces(sample.image, small_faces=small_faces):
                kind = "face" if is_face(b, sample.faces) is not None else "FALSE"
                looks = " ".join(
                    f"{c}x {face_check.second_look(sample.image, b, near, c):.2f}" for c in face_check.CONTEXTS
                )
                logger.info(
                    "%-5s %-40s box %4d %4d %4d score %.2f  looks %s", kind, sample.name, b.x, b.y, b.w, b.score, looks
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="live-video mode (small_faces=False)")
    parser.add_argument("--boxes", action="store_true", help="log every box with its second-look scores")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    samples = image_set()
    small_faces = not args.live
    logger.info(
        "%d images, %d faces, %d without a face; %s mode",
        len(samples), sum(len(s.faces) for s in samples), sum(1 for s in samples if not s.faces),
        "live" if args.live else "photo",
    )  # fmt: skip
    if args.boxes:
        _print_boxes(samples, small_faces)
    for label, patch in (("off", _without_second_look), ("on", None)):
        if patch is not None:
            with patch():
                score = evaluate(samples, lambda image: detect_faces(image, small_faces=small_faces))
        else:
            score = evaluate(samples, lambda image: detect_faces(image, small_faces=small_faces))
        logger.info(
            "detection: recall %.3f precision %.3f fp_per_neg_image %.3f (second look %s)",
            score.recall, score.precision, score.fp_per_neg_image, label,
        )  # fmt: skip
        if score.false_boxes:
            logger.info("  false boxes: %s", score.false_boxes)
        if score.missed:
            logger.info("  missed faces: %s", score.missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
