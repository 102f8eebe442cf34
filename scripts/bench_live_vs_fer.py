"""Live pipeline against the `fer` library: frames per second and accuracy, in one run (issue #5).

Run::

    scripts/fer_env.sh                                          # once: fer in its own .venv-fer/
    .venv/bin/python scripts/bench_live_vs_fer.py               # prints the table and PASS/FAIL
    .venv/bin/python scripts/bench_live_vs_fer.py --json out.json --seconds 4 --rounds 2

What is measured, one thread on each side (litert/TFLite ``num_threads=1``, ``cv2.setNumThreads(1)``,
TensorFlow intra/inter-op 1), each side in fresh subprocesses that alternate ``--rounds`` times so a
busy moment of the shared machine hits both:

* **ours**: :class:`awsome_core.vision.live.LiveProcessor` ``.process(frame)`` as the live page calls it:
  BlazeFace detection, crop, the served ``models/emotion.tflite`` (as it is at run time), smoothing, and
  boxes, labels, bars and status drawn on the frame. Its clock is a simulated 15 fps camera, so the
  adaptive skipping analyses every frame (as on an idle machine); the child checks that it did.
* **fer**: ``FER(mtcnn=False).detect_emotions(frame)`` (Haar cascade + its bundled quantized model, the
  library's defaults) and ``fer.utils.draw_annotations``, run by ``.venv-fer/bin/python``.
* The same N 640×480 frames for both: ``skimage.data.astronaut()`` in a few upright poses, slightly
  jittered and noisy, written to a temporary ``.npz``.
* Accuracy on ``../shared/data/fer2013/fer2013_val.npz`` (FER2013 PublicTest), every score computed by
  :mod:`awsome_core.training.evaluate`: ours with and without mirror TTA; fer's classifiers alone on the
  48×48 faces resized to their 64×64 input with fer's preprocessing ``(x/255 − 0.5)·2``, for both its
  models (quantized ``.tflite``, the default, and Keras ``.hdf5``).

Verdict: PASS if our median ms per frame is at least 5× below fer's and our accuracy is at least the
better of fer's two models. Ours is judged as served: with TTA if the model card says so; if the card
does not say, both settings must pass. fps is 1000 / median ms; throughput (frames / total seconds)
is printed beside it. Exit code: 0 PASS (or skipped: no .venv-fer, no ../shared), 1 FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "emotion.tflite"
FER_PYTHON = ROOT / ".venv-fer" / "bin" / "python"
DATA = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013_val.npz"
FRAME_W, FRAME_H = 640, 480
FACE_CENTER = (227.0, 118.0)  # the astronaut's face in skimage.data.astronaut() (512×512), pixels
MIN_RATIO = 5.0  # issue #5: at least 5× faster
CAMERA_FPS = 15.0  # the simulated camera behind LiveProcessor's clock
THREAD_ENV = {  # for both children, on top of each runtime's own one-thread setting
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",  # fer's pkg_resources deprecation notice
}


@dataclass(frozen=True)
class Pose:
    """Where the astronaut goes in the frame: image *scale*, face centre at (*cx*, *cy*) as fractions of
    the frame's width and height, optionally mirrored. Upright only, so that Haar and BlazeFace both
    find the face and both sides do the same work per frame."""

    scale: float
    cx: float
    cy: float
    mirror: bool = False


POSES = (Pose(1.0, 0.5, 0.45), Pose(1.4, 0.42, 0.5), Pose(0.8, 0.62, 0.5), Pose(1.1, 0.5, 0.45, mirror=True))


@dataclass(frozen=True)
class Verdict:
    """The acceptance check for one of our settings against fer."""

    passed: bool
    speed_ratio: float
    reasons: tuple[str, ...]


def place_face(image_rgb: Any, pose: Pose, *, shift: tuple[float, float] = (0.0, 0.0)) -> Any:
    """A 640×480 BGR uint8 frame with *image_rgb* (the 512×512 astronaut) scaled and placed per *pose*."""
    import cv2
    import numpy as np

    image = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2BGR)
    fx, fy = FACE_CENTER
    if pose.mirror:
        image, fx = image[:, ::-1], image.shape[1] - 1 - fx
    m = np.array([[pose.scale, 0, 0], [0, pose.scale, 0]], np.float64)
    m[:, 2] = (pose.cx * FRAME_W + shift[0] - pose.scale * fx, pose.cy * FRAME_H + shift[1] - pose.scale * fy)
    return cv2.warpAffine(np.ascontiguousarray(image), m, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)


def build_frames(image_rgb: Any, n: int, poses: tuple[Pose, ...] = POSES, *, seed: int = 0) -> Any:
    """N×480×640×3 uint8 BGR frames cycling through *poses*, each jittered by a few pixels and given mild
    sensor noise (σ = 2 grey levels), so consecutive frames differ as a webcam's do. Deterministic."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frames = np.empty((n, FRAME_H, FRAME_W, 3), np.uint8)
    for i in range(n):
        shift = tuple(float(v) for v in rng.uniform(-4, 4, 2))
        frame = place_face(image_rgb, poses[i % len(poses)], shift=shift).astype(np.float32)
        frames[i] = np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
    return frames


def served_tta(card: dict[str, Any]) -> bool | None:
    """Whether the app serves live video with TTA, as the app decides it from the card
    (:func:`awsome_core.vision.classifier.serving_tta` for ``"live"``, mirror TTA being what this benchmark
    times); ``None`` when the card has no ``serving_tta``."""
    from awsome_core.vision.classifier import serving_tta

    return serving_tta(card, "live") != "none" if "serving_tta" in card else None


def judge(*, ours_ms: float, fer_ms: float, ours_acc: float, fer_acc: float, min_ratio: float = MIN_RATIO) -> Verdict:
    """PASS when ``fer_ms / ours_ms ≥ min_ratio`` and ``ours_acc ≥ fer_acc`` (accuracies as fractions)."""
    ratio = fer_ms / ours_ms if ours_ms > 0 else float("nan")  # NaN fails every comparison below
    reasons = []
    if not ratio >= min_ratio:
        reasons.append(f"only {ratio:.1f}× faster (needs ≥ {min_ratio:g}×)")
    if not ours_acc >= fer_acc:
        reasons.append(f"accuracy {100 * ours_acc:.2f}% < fer's {100 * fer_acc:.2f}%")
    return Verdict(not reasons, ratio, tuple(reasons))


def summarize_times(times_s: list[float], faces: list[int]) -> dict[str, float]:
    """Median ms per frame, fps (1000 / median), throughput (frames / total s) and mean faces per frame."""
    import numpy as np

    median_ms = float(np.median(times_s) * 1000)
    return {
        "frames_timed": len(times_s),
        "median_ms": round(median_ms, 3),
        "p90_ms": round(float(np.percentile(times_s, 90) * 1000), 3),
        "fps": round(1000 / median_ms, 2),
        "throughput_fps": round(len(times_s) / sum(times_s), 2),
        "faces_per_frame": round(float(np.mean(faces)), 3),
        "frames_with_face": round(float(np.mean([f > 0 for f in faces])), 3),
    }


def time_frames(process: Any, frames: Any, seconds: float, *, warmup: int = 5) -> dict[str, Any]:
    """Run ``process(frame) -> faces found`` over whole passes of *frames* (copies, since both sides draw
    in place) until *seconds* have passed. Returns per-frame ``times`` (s) and ``faces``, and the
    process's CPU and wall seconds over the loop (CPU/wall near 1 means one busy thread)."""
    for frame in frames[:warmup]:
        process(frame.copy())
    times, faces = [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    while not times or time.perf_counter() - start < seconds:
        for frame in frames:
            f = frame.copy()
            t = time.perf_counter()
            n = process(f)
            times.append(time.perf_counter() - t)
            faces.append(n)
    cpu_s, wall_s = time.process_time() - cpu_start, time.perf_counter() - start
    return {"times": times, "faces": faces, "cpu_s": cpu_s, "wall_s": wall_s}


# ---------------------------------------------------------------------------------------------- children


class CameraClock:
    """A simulated camera's timeline for :class:`LiveProcessor` (its ``clock``): it moves only by
    :meth:`tick`, one frame period per frame, so an analysis costs 0 s in it and the adaptive skipping
    never skips a frame (as on an idle machine), while the smoothing sees a real 15 fps stream."""

    def __init__(self, fps: float = CAMERA_FPS) -> None:
        self.now, self.period = 0.0, 1 / fps

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self.period


def time_live(classifier: Any, frames: Any, seconds: float) -> dict[str, Any]:
    """Per-frame times of ``LiveProcessor.process`` (analysis + smoothing + drawing) over *frames*."""
    from awsome_core.vision.live import LiveProcessor

    clock = CameraClock()
    processor = LiveProcessor(classifier, cpu_share=1.0, clock=clock)

    def process(frame: Any) -> int:
        clock.tick()
        processor.process(frame)
        reading = processor.latest.get()
        return len(reading.faces) if reading is not None else 0

    timed = time_frames(process, frames, seconds)
    snap = processor.snapshot()
    return timed | {"skipped": snap.frames_in - snap.frames_analyzed}


def child_ours(frames_path: Path, seconds: float) -> dict[str, Any]:
    """Our live pipeline, one thread, without and with mirror TTA (*seconds* each)."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)  # the detector and classifier interpreters already run with num_threads=1
    from awsome_core.vision.classifier import EmotionClassifier

    frames = np.load(frames_path)["frames"]
    return {
        key: time_live(EmotionClassifier.load(MODEL, tta=tta), frames, seconds)
        for key, tta in (("plain", False), ("tta", True))
    }


def child_fer(frames_path: Path, seconds: float) -> dict[str, Any]:
    """fer's default live pipeline (Haar + quantized model) and its drawing, one thread."""
    import cv2
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cv2.setNumThreads(1)
    import fer
    from fer.fer import FER
    from fer.utils import draw_annotations

    # NOTE: FER builds its tf.lite.Interpreter with default threads; seed its class-level cache with a
    # one-thread interpreter of the same bundled file so fer runs on one thread like ours.
    path = Path(fer.__file__).parent / "data" / "emotion_model_quantized.tflite"
    FER._tflite_interpreter_cache = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    FER._tflite_interpreter_cache.allocate_tensors()
    detector = FER(mtcnn=False)
    frames = np.load(frames_path)["frames"]

    def process(frame: Any) -> int:
        faces = detector.detect_emotions(frame)
        draw_annotations(frame, faces)
        return len(faces)

    return {"default": time_frames(process, frames, seconds), "fer_version": fer.__version__, "opencv": cv2.__version__}


def child_fer_accuracy(data: Path, out_dir: Path) -> dict[str, Any]:
    """fer's two classifiers on the 48×48 faces (resized to 64×64, fer's preprocessing); probabilities
    are written to *out_dir* and scored by the parent with our evaluate code."""
    import cv2
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from fer.fer import FER

    with np.load(data) as d:
        faces = d["x"]
    x = np.stack([cv2.resize(face, (64, 64)) for face in faces]).astype(np.float32)
    x = (x / 255.0 - 0.5) * 2.0  # fer's own preprocessing (detect_emotions)
    written = {}
    for name, use_tflite in (("tflite", True), ("keras", False)):
        model = FER(mtcnn=False, use_tflite=use_tflite)
        batches = [x[i : i + 256] if use_tflite else x[i : i + 256, ..., None] for i in range(0, len(x), 256)]
        probs = np.concatenate([np.asarray(model._classify_emotions(b)) for b in batches])  # tflite adds the channel
        np.save(out_dir / f"fer_{name}.npy", probs.astype(np.float32))
        written[name] = str(out_dir / f"fer_{name}.npy")
    return written


# ---------------------------------------------------------------------------------------------- parent


def run_child(python: Path, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, **THREAD_ENV, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(python), __file__, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:]) or "no output"
        raise RuntimeError(f"child {args[:2]} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1])


def pool_rounds(rounds: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Every round's per-frame times of one setting pooled into one summary, plus each round's fps."""
    times = [t for r in rounds for t in r[key]["times"]]
    faces = [n for r in rounds for n in r[key]["faces"]]
    per_round = [summarize_times(r[key]["times"], r[key]["faces"])["fps"] for r in rounds]
    return summarize_times(times, faces) | {
        "fps_per_round": per_round,
        "cpu_per_wall": round(sum(r[key]["cpu_s"] for r in rounds) / sum(r[key]["wall_s"] for r in rounds), 3),
        "frames_skipped": sum(r[key].get("skipped", 0) for r in rounds),
    }


def measure_speed(frames_path: Path, rounds: int, seconds: float) -> dict[str, Any]:
    """Alternate our child and fer's child *rounds* times, so that load from others hits both alike."""
    ours, fers = [], []
    for i in range(rounds):
        print(f"  round {i + 1}/{rounds}: ours …", end="", flush=True)
        ours.append(run_child(Path(sys.executable), ["--child", "ours", str(frames_path), str(seconds)]))
        print(" fer …", end="", flush=True)
        fers.append(run_child(FER_PYTHON, ["--child", "fer", str(frames_path), str(seconds)]))
        print(" done", flush=True)
    return {
        "ours_plain": pool_rounds(ours, "plain"),
        "ours_tta": pool_rounds(ours, "tta"),
        "fer": pool_rounds(fers, "default") | {"version": fers[0]["fer_version"], "opencv": fers[0]["opencv"]},
    }


def measure_accuracy(tmp: Path) -> dict[str, Any]:
    """Accuracy and macro-F1 on FER2013 PublicTest: ours (plain, mirror TTA) and fer's two models, all
    scored by :func:`awsome_core.training.evaluate.evaluate_probabilities`."""
    import numpy as np

    from awsome_core.training.evaluate import evaluate_probabilities, load_faces, make_predictor, tta_probabilities

    x, y = load_faces(DATA)
    predict, description = make_predictor(model=MODEL, checkpoint=None)
    written = run_child(FER_PYTHON, ["--child", "fer-accuracy", str(DATA), str(tmp)])
    reports = {
        "ours_plain": evaluate_probabilities(y, predict(x)),
        "ours_tta": evaluate_probabilities(y, tta_probabilities(predict, x, "flip")),
        **{f"fer_{name}": evaluate_probabilities(y, np.load(path)) for name, path in written.items()},
    }
    return {"model": description} | {k: {"accuracy": r.accuracy, "macro_f1": r.macro_f1} for k, r in reports.items()}


def model_fingerprint() -> str:
    """First 12 hex digits of the served model file's sha256 (the file may be replaced while we run)."""
    import hashlib

    return hashlib.sha256(MODEL.read_bytes()).hexdigest()[:12]


def missing_prerequisites() -> list[str]:
    """Why the benchmark cannot run here (empty when it can)."""
    missing = []
    if not FER_PYTHON.exists():
        missing.append(f"no fer environment at {FER_PYTHON.parent.parent} (create it with scripts/fer_env.sh)")
    if not DATA.is_file():
        missing.append(f"no FER2013 validation file at {DATA} (../shared/data is not mounted here)")
    if not MODEL.is_file():
        missing.append(f"no served model at {MODEL}")
    return missing


def judged_settings(card: dict[str, Any], choice: str) -> tuple[list[str], str]:
    """Which of our settings the verdict judges (``ours_plain``/``ours_tta``) and why."""
    if choice != "card":
        return (["ours_tta"] if choice == "on" else ["ours_plain"]), f"--tta {choice}"
    tta = served_tta(card)
    if tta is None:
        return ["ours_plain", "ours_tta"], "the model card does not say whether TTA is served: both must pass"
    return (["ours_tta"] if tta else ["ours_plain"]), f"served {'with' if tta else 'without'} TTA (model card)"


def verdicts_for(results: dict[str, Any], settings: list[str]) -> dict[str, Verdict]:
    speed, acc = results["speed"], results["accuracy"]
    fer_acc = max(acc["fer_tflite"]["accuracy"], acc["fer_keras"]["accuracy"])  # the better of fer's models
    return {
        key: judge(
            ours_ms=speed[key]["median_ms"],
            fer_ms=speed["fer"]["median_ms"],
            ours_acc=acc[key]["accuracy"],
            fer_acc=fer_acc,
        )
        for key in settings
    }


def row(label: str, *values: object) -> str:
    return f"  {label:<34}" + "".join(f"{v!s:>10}" for v in values)


LABELS = {"ours_plain": "ours, TTA off", "ours_tta": "ours, mirror TTA", "fer": "fer, detect_emotions + draw"}


def report(results: dict[str, Any], verdicts: dict[str, Verdict], why: str) -> None:
    speed, acc = results["speed"], results["accuracy"]
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {results['load_average']:.2f} (a busy machine slows both)")
    print(f"ours: {acc['model']}, file sha256 {results['model_sha256']}")
    print(f"fer: {speed['fer']['version']} (Haar cascade, OpenCV {speed['fer']['opencv']}; its quantized model)")
    print(f"frames: {results['frames']} × 640×480; {results['rounds']} round(s) of {results['seconds']:g} s per side")
    print()
    print(row("live pipeline, 1 thread", "median ms", "p90 ms", "fps", "thru fps", "faces/frm", "CPU/wall", "val acc"))
    for key, label in LABELS.items():
        s, a = speed[key], acc["fer_tflite" if key == "fer" else key]["accuracy"]
        figures = (f"{s['median_ms']:.2f}", f"{s['p90_ms']:.2f}", f"{s['fps']:.1f}", f"{s['throughput_fps']:.1f}")
        print(row(label, *figures, f"{s['faces_per_frame']:.2f}", f"{s['cpu_per_wall']:.2f}", f"{a:.2%}"))
    print(row("fer's Keras .hdf5 (accuracy only)", *[""] * 6, f"{acc['fer_keras']['accuracy']:.2%}"))
    skipped = speed["ours_plain"]["frames_skipped"] + speed["ours_tta"]["frames_skipped"]
    if skipped:
        print(f"  WARNING: LiveProcessor skipped {skipped} frame(s): our figures are not all full analyses")
    if min(speed[key]["cpu_per_wall"] for key in LABELS) < 0.8:
        print("  NOTE: CPU/wall < 0.8: other processes took CPU time; absolute fps are low, the ratio holds better")
    if results["model_changed"]:
        print("  WARNING: models/emotion.tflite changed during the run; run again")
    print(f"\nverdict (≥ {MIN_RATIO:g}× fer's fps, accuracy ≥ the better of fer's models; {why}):")
    for key, v in verdicts.items():
        detail = "; ".join(v.reasons) or "faster and at least as accurate"
        print(f"  {LABELS[key]:<18} {v.speed_ratio:6.1f}× fer's fps  {'PASS' if v.passed else 'FAIL'}  ({detail})")
    print("PASS" if all(v.passed for v in verdicts.values()) else "FAIL")


def run_benchmark(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Verdict], str]:
    from skimage import data

    from awsome_core.vision.classifier import card_path_for

    card = json.loads(card_path_for(MODEL).read_text(encoding="utf-8"))
    settings, why = judged_settings(card, args.tta)
    sha = model_fingerprint()
    with tempfile.TemporaryDirectory(prefix="bench-live-fer-") as tmp:
        import numpy as np

        frames_path = Path(tmp) / "frames.npz"
        np.savez(frames_path, frames=build_frames(data.astronaut(), args.frames))
        print(f"timing ({args.rounds} rounds, {args.seconds:g} s per side and setting) …", flush=True)
        speed = measure_speed(frames_path, args.rounds, args.seconds)
        print("accuracy on fer2013_val.npz …", flush=True)
        accuracy = measure_accuracy(Path(tmp))
    results = {
        "load_average": os.getloadavg()[0],
        "frames": args.frames,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "model_version": card.get("model_version"),
        "model_sha256": sha,
        "model_changed": model_fingerprint() != sha,
        "served_tta": served_tta(card),
        "speed": speed,
        "accuracy": accuracy,
    }
    return results, verdicts_for(results, settings), why


def run_as_child(name: str, child_args: list[str]) -> dict[str, Any]:
    first, second = Path(child_args[0]), child_args[1]
    if name == "fer-accuracy":
        return child_fer_accuracy(first, Path(second))
    return {"ours": child_ours, "fer": child_fer}[name](first, float(second))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48, help="distinct 640×480 frames (default 48)")
    parser.add_argument("--seconds", type=float, default=8.0, help="timing per side and setting per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of fresh subprocesses")
    parser.add_argument("--tta", choices=("card", "on", "off"), default="card", help="which of our settings to judge")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", choices=("ours", "fer", "fer-accuracy"), help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.frames < 1 or args.rounds < 1 or not args.seconds > 0:
        parser.error("--frames and --rounds must be at least 1, --seconds above 0")
    if args.child:
        print(json.dumps(run_as_child(args.child, args.child_args)))
        return 0
    missing = missing_prerequisites()
    if missing:
        print("SKIPPED: " + "; ".join(missing))
        return 0
    results, verdicts, why = run_benchmark(args)
    report(results, verdicts, why)
    if args.json:
        results["verdict"] = {k: {**v.__dict__, "reasons": list(v.reasons)} for k, v in verdicts.items()}
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(v.passed for v in verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
