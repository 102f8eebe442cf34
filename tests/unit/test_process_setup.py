"""What the serving processes set up once: OpenCV on the caller's thread (awsome_core/vision/threads.py), the
collector's schedule (ui/runtime.bounded_gc)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _in_a_fresh_process(code: str) -> str:
    """Run *code* in a new interpreter (the setting is process-wide) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_serving_setup_leaves_opencv_one_thread_and_no_pool_at_work() -> None:
    out = _in_a_fresh_process(
        """
        import os, cv2, numpy as np
        from awsome_core.vision import use_one_opencv_thread
        before = cv2.getNumThreads()
        use_one_opencv_thread()
        use_one_opencv_thread()  # idempotent
        threads = len(os.listdir("/proc/self/task"))
        image = np.zeros((480, 640, 3), np.uint8)
        for _ in range(20):
            cv2.resize(cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), cv2.COLOR_YUV2BGR_I420), (320, 240))
        print(before, cv2.getNumThreads(), len(os.listdir("/proc/self/task")) - threads)
        """
    )
    before, after, new_threads = (int(v) for v in out.split())
    assert before >= 1  # OpenCV's default: one per core
    assert after == 1
    assert new_threads == 0  # no worker pool was started for the conversions


def test_the_api_runtime_sets_it_up() -> None:
    out = _in_a_fresh_process(
        """
        import cv2
        from api.app import build_runtime
        from awsome_core.config import Settings
        build_runtime(Settings.load({"database_url": "sqlite://"}))
        print(cv2.getNumThreads())
        """
    )
    assert out.splitlines()[-1] == "1"


def test_the_app_process_collects_on_its_own_schedule() -> None:
    out = _in_a_fresh_process(
        """
        import gc, threading
        from ui.runtime import GC_FULL_AFTER, GC_MIDDLE, GC_YOUNG, bounded_gc
        default = gc.get_threshold()
        thread = bounded_gc()
        print(gc.get_threshold() == (GC_YOUNG, GC_MIDDLE, GC_FULL_AFTER),
              GC_YOUNG > default[0], gc.get_freeze_count() > 0, thread.is_alive() and thread.daemon)
        """
    )
    assert out.splitlines()[-1] == "True True True True"
