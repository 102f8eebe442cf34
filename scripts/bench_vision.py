"""Benchmark the serving path: emotion model latency, per-frame latency, import time and memory.

Run::

    .venv/bin/python scripts/bench_vision.py                 # everything, prints a table
    .venv/bin/python scripts/bench_vision.py --json out.json # also keep the figures
    .venv/bin/python scripts/bench_vision.py --calibrate     # re-measure the detector→FER2013 framing

Each measurement runs in a fresh subprocess so import time and resident memory are clean. The emotion
model runs with one thread; OpenCV is limited to one thread too, so the figures are per core. Targets
(issue 3): ≤ 1.5 ms per face, ≤ 10 ms per 640×480 frame with one face. The machine is shared: medians of
many runs are reported, and a busy machine still shows in them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "emotion.tflite"
CHILDREN = ("serve-litert", "serve-tensorflow", "latency-litert", "latency-tflite-in-tf")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median_ms(fn, runs: int, per: int = 1) -> float:  # noqa: ANN001 - tiny helper
    import numpy as np

    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000 / per)


def astronaut_frame():  # noqa: ANN201 - numpy array
    """The skimage astronaut, face centred, in a 640×480 BGR frame (one face)."""
    import cv2
    from skimage import data

    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    m = cv2.getRotationMatrix2D((227.0, 118.0), 0, 1.0)
    m[:, 2] += (320 - 227, 240 - 118)
    return cv2.warpAffine(image, m, (640, 480))


def child_serve(kind: str) -> dict:
    """Import what the server imports, load the models, classify one frame; time and memory."""
    t0 = time.perf_counter()
    import numpy as np

    if kind == "tensorflow":
        import tensorflow as tf  # noqa: F401 - what importing TensorFlow in the server would cost
    from awsome_core.vision import analyze_image, get_classifier

    imported = time.perf_counter() - t0
    frame = np.zeros((480, 640, 3), np.uint8)
    classifier = get_classifier(str(MODEL))
    faces = analyze_image(frame, classifier=classifier)  # no face: loads and runs both detector models
    classifier.predict(np.zeros((1, 48, 48), np.uint8))
    ready = time.perf_counter() - t0
    return {
        "import_s": round(imported, 3),
        "ready_s": round(ready, 3),
        "rss_mb": round(rss_mb(), 1),
        "faces": len(faces),
    }


def child_latency_litert() -> dict:
    import numpy as np

    from awsome_core.vision import analyze_image, detect_faces, get_classifier, use_one_opencv_thread

    use_one_opencv_thread()  # as the server runs it

    classifier = get_classifier(str(MODEL))
    faces = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    frame = astronaut_frame()
    assert len(detect_faces(frame)) == 1
    return {
        "face_batch1_ms": round(median_ms(lambda: classifier.predict(faces[:1]), 300), 3),
        "face_batch16_ms": round(median_ms(lambda: classifier.predict(faces), 60, per=16), 3),
        "face_batch1_tta_ms": round(median_ms(lambda: classifier.predict(faces[:1], tta=True), 200), 3),
        "face_batch1_shift_tta_ms": round(median_ms(lambda: classifier.predict(faces[:1], tta="shift"), 100), 3),
        "detect_640x480_ms": round(median_ms(lambda: detect_faces(frame), 200), 2),
        "frame_640x480_ms": round(
            median_ms(lambda: analyze_image(frame, classifier=classifier, small_faces=False), 200), 2
        ),
        "photo_small_faces_640x480_ms": round(median_ms(lambda: analyze_image(frame, classifier=classifier), 40), 1),
    }


def child_latency_tf() -> dict:
    """The same .tflite through TensorFlow's own tf.lite.Interpreter, one thread."""
    import numpy as np
    import tensorflow as tf

    it = tf.lite.Interpreter(model_path=str(MODEL), num_threads=1)
    out: dict = {}
    for batch in (1, 16):
        it.resize_tensor_input(it.get_input_details()[0]["index"], [batch, 48, 48, 1])
        it.allocate_tensors()
        x = np.random.default_rng(0).integers(0, 256, (batch, 48, 48, 1)).astype(np.float32)

        def run(x: np.ndarray = x) -> None:
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            it.get_tensor(it.get_output_details()[0]["index"])

        out[f"face_batch{batch}_ms"] = round(median_ms(run, 200 if batch == 1 else 40, per=batch), 3)
    return out


def run_child(name: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name], capture_output=True, text=True, env=env, cwd=ROOT
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def calibrate() -> dict:
    """Where each BlazeFace model puts its box inside FER2013's own crops (→ detector.SPECS framing)."""
    import cv2
    import numpy as np

    from awsome_core.vision.detector import SPECS, FaceDetector

    x = np.load(ROOT.parent / "shared" / "data" / "fer2013" / "fer2013_val.npz")["x"][:1000]
    out = {}
    for name in SPECS:
        det, rows = FaceDetector(name), []
        for face in x:
            canvas = cv2.copyMakeBorder(
                cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC), *[72] * 4, cv2.BORDER_CONSTANT, value=128
            )
            boxes = det.detect(canvas, min_score=0.5)
            if boxes:  # undo the current framing to get the raw box
                b, s = boxes[0], SPECS[name]
                raw_w = b.w / s.frame_scale
                rows.append(((b.y + b.h / 2 + s.frame_up * b.w - 72) / 144, raw_w / 144))
        cy, w = np.median(np.array(rows), axis=0)
        out[name] = {"found": len(rows) / len(x), "frame_scale": round(1 / w, 3), "frame_up": round(float(cy) - 0.5, 3)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=CHILDREN)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    if args.child:
        fn = {
            "serve-litert": lambda: child_serve("litert"),
            "serve-tensorflow": lambda: child_serve("tensorflow"),
            "latency-litert": child_latency_litert,
            "latency-tflite-in-tf": child_latency_tf,
        }[args.child]
        print(json.dumps(fn()))
        return 0
    if args.calibrate:
        print(json.dumps(calibrate(), indent=2))
        return 0
    results = {name: run_child(name) for name in CHILDREN}
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def row(label: str, *values: object) -> str:
    return f"  {label:<44}" + "".join(f"{v!s:>10}" for v in values)


def report(r: dict) -> None:
    lit, tfl = r["latency-litert"], r["latency-tflite-in-tf"]
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (a busy machine inflates every figure)"
    )
    print(f"model: {MODEL.relative_to(ROOT)} ({MODEL.stat().st_size / 1e6:.2f} MB)")
    print("\nemotion model, median ms per face, 1 thread" + " " * 3 + "   batch 1  batch 16")
    print(row("ai-edge-litert (served)", lit.get("face_batch1_ms", "?"), lit.get("face_batch16_ms", "?")))
    print(row("tf.lite.Interpreter (TensorFlow)", tfl.get("face_batch1_ms", "?"), tfl.get("face_batch16_ms", "?")))
    print(row("ai-edge-litert with flip TTA (served)", lit.get("face_batch1_tta_ms", "?")))
    print(row("ai-edge-litert with 10-view shift TTA", lit.get("face_batch1_shift_tta_ms", "?")))
    print("\n640×480 frame, one face, median ms, 1 thread (target ≤ 10 ms)")
    print(row("detection only", lit.get("detect_640x480_ms", "?")))
    print(row("detection + crop + classification", lit.get("frame_640x480_ms", "?")))
    print(row("photo mode (small_faces: + tiles)", lit.get("photo_small_faces_640x480_ms", "?")))
    print("\nserving process" + " " * 31 + "import s   ready s    RSS MB")
    for name in ("serve-litert", "serve-tensorflow"):
        s = r[name]
        print(row(name, s.get("import_s", "?"), s.get("ready_s", "?"), s.get("rss_mb", "?")))
    errors = {k: v["error"] for k, v in r.items() if "error" in v}
    if errors:
        print("\nerrors:", json.dumps(errors, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
