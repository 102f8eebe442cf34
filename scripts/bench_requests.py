"""What each request of a photo reading costs the server: one session, each request repeated, CPU per request.

Run command::

    .venv/bin/python scripts/bench_requests.py --repeats 30          # AWSOME_TEST_MYSQL_URL, e.g. mysql+pymysql://root@127.0.0.1:3306/

The same real server, database and protocol client as ``scripts/load_test.py`` (throwaway MySQL database,
the starter catalog imported, ``streamlit run app.py``), but one session and one request at a time, so that
the server's CPU time (``/proc/PID/stat``, user + system) read before and after each request is that
request's. A reading as the load script takes it is split into:

* ``photo view``: open the Photo page, nothing uploaded yet (a full script run: app.py, sidebar, page);
* ``upload → faces``: the upload (HTTP) and the run of the Photo page's fragment that analyses it and shows
  the reading;
* ``confirm``: **Confirm this mood**, which reruns the reading's fragment: store, rank and record the music,
  the ten cards;
* ``history view``: the History page (the load script opens it after every other reading).

Each figure is the mean over ``--repeats`` requests (the clock ticks are 10 ms, so a single request's figure
is coarse; the mean is not), minus what the idle server burns in the same time (measured first, over
``--idle`` seconds: Streamlit's config watchers, app.py's timed collection). ``per reading`` adds them up
the way the load script's mix does (a History view every other reading, and the Photo page opened again
after it). ``analysis_core_ms`` is the same
in-process decode + detect + classify as the load script's. Use it to see which request a change moved;
use ``scripts/load_test.py`` for what 20 concurrent sessions cost.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402, TID251

from awsome_core.storage.db import temporary_mysql_database  # noqa: E402
from scripts.load_test import (  # noqa: E402
    HISTORY_EVERY,
    StreamlitClient,
    _astronaut_jpeg,
    _seed_catalog,
    _sign_in,
    analysis_core_ms,
    app_server,
    cpu_seconds,
    create_users,
    unique_photo,
)

logger = logging.getLogger("awsome.bench_requests")
T = TypeVar("T")


class Meter:
    """CPU seconds of process *pid* spent inside :meth:`measure` calls, per label, less the idle rate."""

    def __init__(self, pid: int, idle_cpu_per_s: float) -> None:
        self.pid, self.idle = pid, idle_cpu_per_s
        self.spent: dict[str, list[float]] = {}

    async def measure(self, label: str, request: Awaitable[T]) -> T:
        """Await *request* (a coroutine not started yet) and book the server's CPU meanwhile under *label*."""
        cpu, wall = cpu_seconds(self.pid), time.monotonic()
        result = await request
        used = cpu_seconds(self.pid) - cpu - self.idle * (time.monotonic() - wall)
        self.spent.setdefault(label, []).append(used)
        return result

    def mean_ms(self, label: str) -> float:
        values = self.spent.get(label) or [float("nan")]
        return 1000 * sum(values) / len(values)


async def run(url: str, username: str, pid: int, repeats: int, idle_s: float) -> Meter:
    client = StreamlitClient(url)
    page = await client.connect()
    await _sign_in(client, page, username)
    photo_hash = client.pages["Photo"]
    cpu = cpu_seconds(pid)
    await asyncio.sleep(idle_s)
    meter = Meter(pid, (cpu_seconds(pid) - cpu) / idle_s)
    base = _astronaut_jpeg()
    previous = None
    for i in range(repeats):
        photo = unique_photo(base, f"bench-{i}-{random.random()}")
        page = await meter.measure("photo view", client.rerun(photo_hash, []))
        uploader = page.widget_id("file_uploader", "-photo-upload")
        assert uploader is not None, "no uploader on the Photo page"
        uploader_fragment = page.fragment_of(uploader)  # the browser reruns the uploader's fragment only

        async def upload(uploader: str, fragment: str, photo: bytes, previous: Any) -> tuple[WidgetState, Any, Any]:
            state, urls = await client.upload(uploader, "me.jpg", photo, "image/jpeg")
            if previous is not None:
                await client.delete_upload(previous)
            return state, urls, await client.rerun(photo_hash, [state], fragment)

        state, previous, page = await meter.measure(
            "upload → faces", upload(uploader, uploader_fragment, photo, previous)
        )
        digest = hashlib.sha256(photo).hexdigest()[:16]
        confirm = page.widget_id("button", f"-confirm-{digest}-0")
        if confirm is None or page.problems():
            raise RuntimeError(f"analysis did not show a face: {page.problems()}")
        widgets = [state, WidgetState(id=confirm, trigger_value=True)]
        fragment = page.fragment_of(confirm)
        page = await meter.measure("confirm", client.rerun(photo_hash, widgets, fragment))
        if page.problems():
            raise RuntimeError(f"confirming failed: {page.problems()}")
        await meter.measure("history view", client.rerun(client.pages["History"], []))
    await client.close()
    return meter


def _attach_py_spy(pid: int, raw: Path) -> subprocess.Popen[bytes]:
    """py-spy (PyPI) recording the server's stacks (``--format raw --function``) until interrupted."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--function", "--rate", "200", "--gil"]
    return subprocess.Popen([*command, "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="readings (each request this many times)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to measure the idle server first")
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="also record the measured requests with py-spy into this file (raw stacks of the thread holding "
        "the GIL, 200 Hz)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    core_ms = analysis_core_ms(_astronaut_jpeg())
    with (
        tempfile.TemporaryDirectory(prefix="awsome-bench-requests-") as tmp,
        temporary_mysql_database(args.mysql, prefix="awsome_bench") as database_url,
    ):
        from awsome_core.storage.db import upgrade_database

        upgrade_database(database_url)
        _seed_catalog(database_url)
        warm, user = create_users(database_url, 2)
        with app_server(database_url, Path(tmp) / "data", Path(tmp) / "streamlit.log") as (url, process):
            asyncio.run(run(url, warm, process.pid, 2, 1.0))  # imports, models, first runs: start-up
            spy = _attach_py_spy(process.pid, args.py_spy) if args.py_spy else None
            meter = asyncio.run(run(url, user, process.pid, args.repeats, args.idle))
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
                spy.wait(timeout=60)
    labels = ["photo view", "upload → faces", "confirm", "history view"]
    for label in labels:
        print(f"{label:16s} {meter.mean_ms(label):6.1f} ms CPU (mean of {len(meter.spent.get(label, []))})")
    # The load script's mix: the Photo page is opened after each History view (every other reading).
    opened = ("photo view", "history view")
    per_reading = sum(meter.mean_ms(x) for x in labels if x not in opened)
    per_reading += sum(meter.mean_ms(x) for x in opened) / HISTORY_EVERY
    print(f"idle server      {1000 * meter.idle:6.1f} ms CPU per s (subtracted)")
    print(
        f"requests: per_reading_ms {per_reading:.0f} analysis_core_ms {core_ms:.1f} "
        f"ratio {per_reading / core_ms:.1f} repeats {args.repeats}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
