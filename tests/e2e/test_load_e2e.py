"""The load script in its short mode (issue #7, item 6): 20 sessions for 30 s against a real `streamlit run` on
MySQL; no error, every confirmed reading stored exactly once. The figures are printed (and kept in the JSON),
the issue #14 ones too (server CPU per reading, in-process analysis, their ratio, peak memory): benchmarks,
not asserted, except that they were measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, skip_or_fail

SESSIONS, DURATION_S = 20, 30


def test_load_short_mode_no_errors_and_exactly_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = os.environ.get("AWSOME_TEST_MYSQL_URL")
    if not server:
        skip_or_fail("AWSOME_TEST_MYSQL_URL is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    out = tmp_path / "load.json"
    command = [sys.executable, "scripts/load_test.py", "--sessions", str(SESSIONS), "--duration", str(DURATION_S)]
    done = subprocess.run(
        [*command, "--mysql", server, "--json", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    with capsys.disabled():
        sys.stdout.write(f"\n[load] {done.stdout.strip()}\n")
    assert out.exists(), done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["sessions"] == SESSIONS and report["duration_s"] >= DURATION_S
    assert report["fewest_readings_in_a_session"] >= 1  # every session got through at least one reading
    assert report["confirmed"] == report["stored"] > 0  # no loss ...
    assert report["duplicates"] == 0 and report["mismatched_users"] == []  # ... and no duplicate, per user
    assert report["history_views"] > 0
    assert report["server_cpu_ms_per_reading"] > 0 and report["analysis_core_ms"] > 0  # measured, not judged
    assert done.stdout.strip().splitlines()[-1].startswith("load: p50 ")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
