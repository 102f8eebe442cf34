"""Repeat the Live camera browser test and count streamlit-webrtc's stale-context race and the page's recovery.

    .venv/bin/python scripts/repeat_live_e2e.py                  # 30 runs of the main live test
    .venv/bin/python scripts/repeat_live_e2e.py -n 10 --budget-minutes 10
    .venv/bin/python scripts/repeat_live_e2e.py --test forced    # the forced-drop test (recovery path)
    .venv/bin/python scripts/repeat_live_e2e.py --no-settle      # START while the page still reruns

Each run is a fresh `pytest` of tests/e2e/test_live_e2e.py (a new app server and Chromium); its measurements
and server log land in ``--out/run-NN/``. Per run it reports whether the test passed, the seconds from START
to the first happy box on the video, the analysed and delivered frame rates, and from the server log:

* ``race``: runs of the page in which streamlit-webrtc's stale-context check would have fired (the page
  disarmed it and logged "would have reset the live stream");
* ``reset``: the library actually reset the context ("resetting stale state");
* ``restart``/``ok``: the page restarted the stream ("restarting it once") and the restart came up.

Timings are wall-clock on whatever else the machine is doing: say so when you quote them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = {
    "main": "tests/e2e/test_live_e2e.py::test_live_page_boxes_a_happy_face_and_stores_the_mood",
    "forced": "tests/e2e/test_live_e2e.py::test_live_page_restarts_a_stream_the_library_dropped",
}
FIELDS = ("stale_prevented", "stale_resets", "page_restarts", "restarted")


def run_once(test: str, out: Path, timeout: float) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AWSOME_E2E_RESULTS_DIR": str(out)}
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TESTS[test]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        rc, output = -1, f"timed out after {timeout} s\n{e.stdout or ''}{e.stderr or ''}"
    (out / "pytest.txt").write_text(output if isinstance(output, str) else output.decode(errors="replace"))
    metrics_files = sorted(out.glob("live-*.json"))
    metrics = json.loads(metrics_files[0].read_text()) if metrics_files else {}
    return {**metrics, "rc": rc, "wall_s": round(time.monotonic() - t0, 1)}


def describe(i: int, m: dict[str, object]) -> str:
    counts = " ".join(f"{k}={m.get(k, '?')}" for k in FIELDS)
    return (
        f"run {i:2d}: {'PASS' if m['rc'] == 0 else 'FAIL'} box={m.get('first_happy_box_s', '-')}s "
        f"analysed={m.get('analysed_fps', '-')}fps video={m.get('video_fps', '-')}fps {counts} ({m['wall_s']} s)"
    )


def summarize(results: list[dict[str, object]]) -> str:
    n = len(results)
    passed = sum(r["rc"] == 0 for r in results)

    def total(key: str) -> int:
        return sum(int(r.get(key, 0) or 0) for r in results)

    def runs_with(key: str) -> int:
        return sum(1 for r in results if int(r.get(key, 0) or 0) > 0)

    boxes = [float(r["first_happy_box_s"]) for r in results if "first_happy_box_s" in r]  # type: ignore[arg-type]
    fps = [float(r["analysed_fps"]) for r in results if "analysed_fps" in r]  # type: ignore[arg-type]
    lines = [
        f"{n} runs, {passed} passed",
        f"stale-context race (check would have fired, disarmed by the page): {runs_with('stale_prevented')} runs, "
        f"{total('stale_prevented')} times",
        f"library reset the stream anyway: {runs_with('stale_resets')} runs; page restarted it: "
        f"{total('page_restarts')} times, restart came up: {total('restarted')} times",
    ]
    if boxes:
        lines.append(
            f"START -> first happy box: median {statistics.median(boxes):.2f} s, max {max(boxes):.2f} s "
            f"(min {min(boxes):.2f} s)"
        )
    if fps:
        lines.append(f"analysed frames/s: median {statistics.median(fps):.1f}, min {min(fps):.1f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--runs", type=int, default=30)
    ap.add_argument("--test", choices=sorted(TESTS), default="main")
    ap.add_argument("--out", type=Path, default=Path("runs/live-e2e") / time.strftime("%Y%m%d-%H%M%S"))
    ap.add_argument("--budget-minutes", type=float, default=0, help="stop starting new runs after this (0 = none)")
    ap.add_argument("--timeout", type=float, default=240, help="seconds one run may take")
    ap.add_argument("--no-settle", action="store_true", help="press START before the page's reruns settle")
    args = ap.parse_args()

    out = args.out if args.out.is_absolute() else ROOT / args.out
    if args.no_settle:
        os.environ["AWSOME_E2E_LIVE_NO_SETTLE"] = "1"
    started, results = time.monotonic(), []
    for i in range(1, args.runs + 1):
        if args.budget_minutes and time.monotonic() - started > 60 * args.budget_minutes:
            print(f"budget of {args.budget_minutes} min spent: stopping after {len(results)} runs")
            break
        m = run_once(args.test, out / f"run-{i:02d}", args.timeout)
        results.append(m)
        print(describe(i, m), flush=True)
    (out / "summary.json").write_text(json.dumps(results, indent=1))
    print(summarize(results))
    print(f"details: {out}")
    sys.exit(0 if results and all(r["rc"] == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
