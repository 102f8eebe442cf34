"""Count Python's garbage collections in a process and their CPU time (docs/performance.md, seventh pass).

Run command (the server of a load test, and the load script itself, each write their own file)::

    PYTHONPATH=scripts/gc_count AWSOME_GC_COUNT_FILE=/tmp/gc.json .venv/bin/python scripts/load_test.py --duration 60

Every 2 s each process writes ``{"collections": [gen0, gen1, gen2], "cpu_s": [...]}`` to
``$AWSOME_GC_COUNT_FILE.<pid>``: how many collections of each generation ran and the CPU time of the
thread that ran them (``gc.callbacks``, ``time.thread_time``).
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any

_PATH = os.environ.get("AWSOME_GC_COUNT_FILE")
_counts: dict[str, list[Any]] = {"collections": [0, 0, 0], "cpu_s": [0.0, 0.0, 0.0]}
_started: dict[int, float] = {}


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[threading.get_ident()] = time.thread_time()
        return
    began = _started.pop(threading.get_ident(), None)
    if began is not None:
        generation = info["generation"]
        _counts["collections"][generation] += 1
        _counts["cpu_s"][generation] += time.thread_time() - began


def _write_every_2_s(path: str) -> None:
    while True:
        time.sleep(2)
        try:
            with open(f"{path}.{os.getpid()}", "w", encoding="utf-8") as out:
                json.dump(_counts, out)
        except OSError:
            pass


if _PATH:
    gc.callbacks.append(_on_gc)
    threading.Thread(target=_write_every_2_s, args=(_PATH,), daemon=True, name="gc-count").start()
