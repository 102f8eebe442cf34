"""Where a photo reading goes on the server: ``scripts/load_test.py`` under py-spy, top frames printed.

Run commands::

    .venv/bin/python scripts/profile_server.py                          # 20 sessions, 45 s (AWSOME_TEST_MYSQL_URL)
    .venv/bin/awsome bench profile --sessions 20 --duration 60 --top 25
    .venv/bin/python scripts/profile_server.py --raw profile.txt        # keep py-spy's raw stacks too

It runs the load script's whole run (throwaway MySQL database, accounts, a real ``streamlit run``, sessions
over Streamlit's websocket protocol, database round trips counted with ``--count-sql``) and attaches
``py-spy record --format raw --function`` to the server process for the duration of the sessions. Then it
prints, over the samples of the threads that were running (py-spy leaves idle threads out):

* **inclusive**: the share of samples in which a function is anywhere on the stack (what it costs with
  everything it calls);
* **self**: the share in which it is the innermost frame (where the CPU actually was);
* **by area** (music, History, the photo analysis, saving, app.py ...): each sample counted once, in the
  first area found on its stack (:data:`AREAS`);

A thread waiting on a socket counts as running (py-spy cannot tell): ``SocketIO.readinto`` and
``Connection._write_bytes`` under pymysql are the database round trips' waits, and so does a thread that
waits to take the GIL back after I/O. ``--gil`` keeps only the samples of the thread holding the GIL: with
one process on one core that is where the CPU per reading goes. Then comes the load script's
summary with ``server_cpu_ms_per_reading``, ``overhead_ratio`` and the database round trips per
reading. docs/performance.md keeps what it printed before and after each change.

py-spy (PyPI) reads the server's memory from outside (``ptrace``): it needs root or
``kernel.yama.ptrace_scope = 0``, and it samples at ``--rate`` Hz without stopping the server
(``--nonblocking``), which costs the server almost nothing.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from scripts.load_test import Report, run_load  # noqa: E402

logger = logging.getLogger("awsome.profile")
# A raw py-spy line: "thread;frame;frame;... count"; a frame is "function (file:line)".
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


# Where a sample belongs, the first match from the top: (area, a substring of a frame on its stack); an area
# may have several markers.
AREAS = (
    ("music (ui/music.py)", "show_recommendations ("),
    ("History page", "(history.py:"),
    ("photo analysis (decode, detect, classify, picture)", "analyze_photo ("),
    ("photo analysis (decode, detect, classify, picture)", "annotated_jpeg ("),
    ("saving the reading", "store_reading ("),
    ("Photo page, the rest (chart, widgets)", "(photo.py:"),  # app_pages/photo.py
    ("Photo page, the rest (chart, widgets)", "(ui/photo.py:"),  # its fragments, which run without it
    ("Live page", "(live.py:"),
    ("sign-in, cookie, kept readings (ui/session.py)", "sync_login_state ("),
    ("app.py: navigation, sidebar, page set-up", "(app.py:"),
    ("after each run (Streamlit's postScriptGC when on)", "_on_script_finished ("),
    ("Streamlit's script runner, the rest", "ScriptRunner._run_script ("),
    ("background gc (ui/runtime.py)", "bounded_gc"),
    ("websocket and HTTP serving", "Runner.run ("),
)


def areas(raw: str) -> tuple[int, collections.Counter[str]]:
    """``(samples, share per area)``: each sample counted once, in the first :data:`AREAS` entry it matches."""
    out: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        total += int(count_text)
        name = next((area for area, marker in AREAS if marker in stack), "other")
        out[name] += int(count_text)
    return total, out


def summarize(raw: str) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """``(samples, inclusive, self)`` from py-spy's raw output; frames named ``function (file)``."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        frames = [f for f in frames if f is not None]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    return total, inclusive, own


def _frame_name(frame: str) -> str | None:
    match = _FRAME.match(frame.strip())
    if match is None:  # the thread label py-spy puts first ("process 123:..." / "thread (0x...)")
        return None
    return f"{match['func']} ({match['file']})"


def top_table(title: str, counter: collections.Counter[str], total: int, n: int) -> str:
    rows = [f"{title} (share of {total} samples)"]
    rows += [f"  {100 * c / total:5.1f}%  {name}" for name, c in counter.most_common(n)]
    return "\n".join(rows)


def profile(args: argparse.Namespace, work_dir: Path) -> tuple[Report, str]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw_path = work_dir / "profile.txt"
    spies: list[subprocess.Popen[bytes]] = []

    def attach(pid: int) -> None:
        command = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--function", "--nonblocking"]
        command += ["--rate", str(args.rate), "--output", str(raw_path), "--duration", str(int(args.duration) + 5)]
        if args.gil:
            command.append("--gil")
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    report = run_load(
        args.mysql,
        sessions=args.sessions,
        duration_s=args.duration,
        think_s=args.think,
        work_dir=work_dir,
        count_sql=True,
        seed_catalog=True,  # the first recommendation's catalog import is not what is profiled
        on_started=attach,
    )
    for spy in spies:  # the server has stopped: py-spy writes its file and exits
        _, err = spy.communicate(timeout=60)
        if spy.returncode not in (0, None) and not raw_path.exists():
            raise RuntimeError(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')[-1000:]}")
    return report, raw_path.read_text() if raw_path.exists() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, seconds")
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--rate", type=int, default=50, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=20, help="rows per table")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's raw stacks here")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples of the thread holding the GIL: where the Python CPU goes, without the threads "
        "that wait for the GIL or on a socket (native work that releases the GIL, e.g. the interpreter's "
        "invoke, is then under-counted)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    with tempfile.TemporaryDirectory(prefix="awsome-profile-") as tmp:
        report, raw = profile(args, Path(tmp))
    if args.raw:
        args.raw.write_text(raw)
    total, inclusive, own = summarize(raw)
    if total == 0:
        print("py-spy recorded no samples (is ptrace allowed? run as root or set kernel.yama.ptrace_scope=0)")
    else:
        print(top_table("inclusive", inclusive, total, args.top))
        print(top_table("self", own, total, args.top))
        print(top_table("by area", areas(raw)[1], total, len({area for area, _ in AREAS}) + 1))
    if report.sql_per_reading:
        print("database round trips per reading: " + ", ".join(f"{k} {v}" for k, v in report.sql_per_reading.items()))
    print(report.summary())
    for error in report.errors[:10]:
        print(f"  error: {error}")
    print(report.last_line())
    return 0 if not report.errors and total else 1


if __name__ == "__main__":
    sys.exit(main())
