"""scripts/load_test.py's plumbing for ``--replicas 2``: the websocket carries nginx's replica cookie (else the
session's websocket and its uploads may reach different replicas), memory is the larger process's, and only
the shapes it can run are accepted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from scripts.load_test import RssSampler, cookie_header, rss_mb, servers


def test_the_websocket_sends_every_cookie_it_was_given() -> None:
    jar = requests.cookies.RequestsCookieJar()
    jar.set("_streamlit_xsrf", "2|abc|def")
    jar.set("awsome_replica", "app2")
    header = cookie_header(jar)
    assert "_streamlit_xsrf=2|abc|def" in header and "awsome_replica=app2" in header
    assert header.count(";") == 1


def test_the_rss_sampler_reports_the_largest_process() -> None:
    pids = [os.getpid(), os.getppid()]
    sampler = RssSampler(pids, every_s=0.05)
    sampler.start()
    time.sleep(0.3)
    sampler.stop()
    sizes = [m for m in map(rss_mb, pids) if m is not None]
    assert sampler.samples and max(mb for _, mb in sampler.samples) == pytest.approx(max(sizes), rel=0.2)


@pytest.mark.parametrize(("replicas", "count_sql"), [(3, False), (0, False), (2, True)])
def test_only_one_or_two_servers_and_sql_counts_on_one(tmp_path: Path, replicas: int, count_sql: bool) -> None:
    with pytest.raises(ValueError, match="replicas"):
        with servers("sqlite://", tmp_path, tmp_path / "sql.json" if count_sql else None, replicas):
            pass
