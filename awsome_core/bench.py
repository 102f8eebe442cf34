"""``awsome bench NAME [ARGS...]``: run one of the benchmark scripts in ``scripts/`` (they print their figures).

The scripts live beside the package in a checkout (not in an installed wheel): speed and accuracy targets
belong in benchmarks, not in timed unit tests.
"""

from __future__ import annotations

import runpy
import sys

from awsome_core.config import PROJECT_ROOT
from awsome_core.errors import AwsomeError

BENCHMARKS = {
    "vision": "bench_vision.py",  # per-face and per-frame latency, import time and memory of the serving path
    "recommender": "bench_recommender.py",  # top-10 from a 114,000-track catalog
    "history": "bench_history.py",  # 30-day dashboard queries over 100,000 events
    "live-vs-fer": "bench_live_vs_fer.py",  # live pipeline fps and accuracy against the fer library (.venv-fer)
    "replica": "bench_replica.py",  # memory and CPU per app replica and signed-in session (docs/deploy.md)
    "api": "bench_api.py",  # POST /v1/analyze and /v1/stream throughput against the same work in-process
    "profile": "profile_server.py",  # py-spy of the server under scripts/load_test.py: where a reading goes
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        raise AwsomeError(f"usage: awsome bench {{{'|'.join(BENCHMARKS)}}} [ARGS...]")
    script = PROJECT_ROOT / "scripts" / BENCHMARKS[argv[0]]
    if not script.exists():
        raise AwsomeError(f"{script} not found: benchmarks run from a checkout of the repository")
    sys.argv = [str(script), *argv[1:]]
    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:
        return int(e.code or 0)
    return 0
