"""Sizing figures for docs/deploy.md: memory per replica and sessions per core, on the local stack.

Run commands::

    .venv/bin/python scripts/bench_replica.py                     # AWSOME_TEST_MYSQL_URL, 10 sessions for 60 s
    .venv/bin/python scripts/bench_replica.py --mysql mysql+pymysql://root@127.0.0.1:3306/ --sessions 10 --duration 60

What it does, on a throwaway MySQL database:

1. starts scripts/local_stack.py's stack (two replicas through the container entrypoint, nginx);
2. **memory**: Chromium (Debian's, through Playwright) signs up through nginx and takes a reading on the Photo
   page (upload, analysis, confirm, music); then the resident memory (``VmRSS``) of the replica that served it,
   and of the other replica, which served nobody;
3. **CPU**: the load test's protocol clients (scripts/load_test.py: sign in, photo upload + analysis + confirm,
   History every other reading, ``--think`` seconds between actions) drive ``--sessions`` sessions, then
   ``--light-sessions``, against that same replica for ``--duration`` seconds each; the replica's CPU time
   (``utime + stime`` from ``/proc/PID/stat``) over each window gives the cores it used, the CPU milliseconds per
   reading, and the sessions one core carries at that pace (sessions / cores used); its memory after the heavy
   run, minus before, gives the memory per extra session.

The figures are what this machine measured; every one is printed, nothing is assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from awsome_core import auth  # noqa: E402
from awsome_core.storage.db import (  # noqa: E402
    make_engine,
    make_sessionmaker,
    temporary_mysql_database,  # noqa: E402
)
from scripts.load_test import PASSWORD, _free_port, _percentile, drive  # noqa: E402
from scripts.local_stack import LocalStack  # noqa: E402

logger = logging.getLogger("awsome.bench_replica")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of *pid* in MB (``VmRSS``, or ``VmHWM`` for the peak)."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time *pid* has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15 of proc(5))


def _create_users(database_url: str, names: list[str]) -> list[str]:
    """Accounts for the protocol clients (bcrypt cost 4, as scripts/load_test.py: sign-in is not measured)."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        for name in names:
            auth.register_user(session=session, username=name, display_name=name, password=PASSWORD, rounds=4)
    engine.dispose()
    return names


def measure_memory(stack: LocalStack, work_dir: Path) -> dict[str, Any]:
    """One browser session through nginx: sign up, one photo reading; RSS of both replicas afterwards."""
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright
    from skimage import data

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.helpers import cookie_value, expect_signed_in, open_page, register

    photo = work_dir / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=92)
    idle_at_start = {name: rss_mb(r.process.pid) for name, r in stack.replicas.items() if r.process}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        expect.set_options(timeout=60_000)
        page.goto(stack.url)
        register(page, "sizing", "Sizing User", "correct-horse-battery")
        expect_signed_in(page)
        open_page(page, "Photo")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo))
        expect(page.get_by_text("1 face", exact=True)).to_be_visible()
        page.get_by_role("button", name="Confirm this mood").click()
        expect(page.get_by_text("Saved to your history.")).to_be_visible()
        page.wait_for_timeout(2000)  # recommendations and embeds rendered
        serving = cookie_value(page, "awsome_replica") or ""
        idle = next(name for name in stack.replicas if name != serving)
        serving_pid = stack.replicas[serving].process.pid  # type: ignore[union-attr]
        idle_pid = stack.replicas[idle].process.pid  # type: ignore[union-attr]
        figures = {
            "replica": serving,
            "replica_rss_mb_after_start": round(idle_at_start[serving], 1),
            "replica_rss_mb_signed_in_after_photo": round(rss_mb(serving_pid), 1),
            "replica_peak_rss_mb_signed_in_after_photo": round(rss_mb(serving_pid, "VmHWM"), 1),
            "idle_replica_rss_mb": round(rss_mb(idle_pid), 1),
        }
        browser.close()
    return figures


def measure_cpu(
    stack: LocalStack, database_url: str, replica_name: str, *, sessions: int, duration_s: float, think_s: float
) -> dict[str, Any]:
    """The load test's sessions against one replica; its CPU time and memory over the run."""
    replica = stack.replicas[replica_name]
    pid = replica.process.pid  # type: ignore[union-attr]
    usernames = _create_users(database_url, [f"load{sessions}x{i:03d}" for i in range(sessions)])
    rss_before = rss_mb(pid)
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    results = asyncio.run(drive(replica.url, usernames, duration_s, think_s))
    cpu_used, wall = cpu_seconds(pid) - cpu_before, time.monotonic() - wall_before
    readings = sum(r.confirmed for r in results)
    cores = cpu_used / wall
    errors = [f"{r.username}: {e}" for r in results for e in r.errors]
    analyses = [t for r in results for t in r.analyses]
    return {
        "sessions": sessions,
        "think_s": think_s,
        "wall_s": round(wall, 1),
        "readings": readings,
        "errors": len(errors),
        "first_errors": errors[:5],
        "replica_cpu_s": round(cpu_used, 1),
        "replica_cores_used": round(cores, 2),
        "cpu_ms_per_reading": round(1000 * cpu_used / readings, 1) if readings else None,
        "sessions_per_core_at_this_pace": round(sessions / cores, 1) if cores else None,
        "analysis_p50_s": round(_percentile(analyses, 50), 2),
        "analysis_p95_s": round(_percentile(analyses, 95), 2),
        "replica_rss_mb_before": round(rss_before, 1),
        "replica_rss_mb_after": round(rss_mb(pid), 1),
        "replica_peak_rss_mb": round(rss_mb(pid, "VmHWM"), 1),
        "mb_per_extra_session": round((rss_mb(pid) - rss_before) / sessions, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--sessions", type=int, default=10, help="sessions of the heavy run (saturates a core)")
    parser.add_argument("--light-sessions", type=int, default=2, help="sessions of the light run (no queueing)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    with (
        tempfile.TemporaryDirectory(prefix="awsome-sizing-") as tmp,
        temporary_mysql_database(args.mysql, prefix="awsome_sizing") as database_url,
    ):
        # NOTE: AWSOME_LOG_LEVEL=WARNING as in production logging volume; the load test's sessions are quiet.
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(_free_port())
        lb, app1, app2 = sorted(ports)
        stack = LocalStack(database_url, Path(tmp), lb, (app1, app2), extra_env={"AWSOME_LOG_LEVEL": "WARNING"})
        with stack:
            figures: dict[str, Any] = {"cpu_count": os.cpu_count(), "memory": measure_memory(stack, Path(tmp))}
            replica = figures["memory"]["replica"]  # the same process: its first session is already served
            for sessions in (args.sessions, args.light_sessions):  # heavy first: memory per extra session
                figures[f"load_{sessions}_sessions"] = measure_cpu(
                    stack, database_url, replica, sessions=sessions, duration_s=args.duration, think_s=args.think
                )
    text = json.dumps(figures, indent=2)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text)
    runs = [v for k, v in figures.items() if k.startswith("load_")]
    return 0 if all(r["readings"] > 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
