"""Shared test plumbing.

Suites that need a server (MySQL), a browser (Chromium) or ``../shared/data`` skip with a clear
reason where those are missing -- unless ``AWSOME_REQUIRE_ALL=1`` (set by ``.ci/run``), where the
same condition fails the test instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# NOTE: aiortc's pylibsrtp segfaults when it is first imported after TensorFlow in one process (seen with
# tensorflow-cpu 2.21 + pylibsrtp 1.0); the app never imports TensorFlow, but the test session does both.
# Importing it first makes the suite independent of test order.
import aiortc  # noqa: F401  isort: skip

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
REQUIRE_ALL = os.environ.get("AWSOME_REQUIRE_ALL", "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the current test with *reason*, or fail it when CI requires every suite to run."""
    if REQUIRE_ALL:
        pytest.fail(f"AWSOME_REQUIRE_ALL=1 but: {reason}", pytrace=False)
    pytest.skip(reason)


def shared_data_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip/fail when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        skip_or_fail(f"{path} not found (../shared/data is only on development and CI machines)")
    return path


@pytest.fixture
def shared_data() -> Path:
    return shared_data_path()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a measured figure that is not asserted (a timing, a memory peak): ``report_figure("[tag] …")``.

    It is written at once when the test runs in this process, and kept with the test's report, so that the
    end of the run lists every figure under "figures" -- also for tests that pytest-xdist ran in a worker,
    whose output is not shown.
    """
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def report(line: str) -> None:
        request.node.user_properties.append(("figure", line))
        if not hasattr(request.config, "workerinput") and capture is not None:
            with capture.global_and_fixture_disabled():
                sys.stdout.write(f"\n{line}\n")

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figures = [
        f"{report.nodeid}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("figures (printed, not asserted)")
        for line in dict.fromkeys(figures):
            terminalreporter.write_line(line)


def music_cards(at: Any) -> list[dict[str, Any]]:
    """The music cards an AppTest run drew (ui/music_cards.py's data, in list order): AppTest sees the
    custom component as an element it cannot press, so tests read what it was given."""
    import json

    return [
        card
        for node in at.get("bidi_component")
        if node.proto.component_name == "awsome_music_cards"
        for card in json.loads(node.proto.json)["cards"]
    ]
