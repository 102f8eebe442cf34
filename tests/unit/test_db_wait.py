"""``wait_for_database`` / ``awsome db wait``: the container entrypoint's wait for its database."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from awsome_core import cli
from awsome_core.errors import StorageUnavailable
from awsome_core.storage import db


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def _unreachable_mysql_url() -> str:
    return f"mysql+pymysql://awsome:secret@127.0.0.1:{_closed_port()}/awsome"


def test_wait_for_database_returns_at_once_when_the_database_answers(tmp_path: Path) -> None:
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert db.wait_for_database(url, timeout_s=5, clock=clock, sleep=clock.sleep) == 1
    assert clock.sleeps == []


def test_wait_for_database_retries_until_the_database_comes_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    failures = iter([StorageUnavailable(), StorageUnavailable()])
    real_check = db.check_database

    def flaky_check(engine: object) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        real_check(engine)  # type: ignore[arg-type]

    monkeypatch.setattr(db, "check_database", flaky_check)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert db.wait_for_database(url, timeout_s=10, interval_s=2, clock=clock, sleep=clock.sleep) == 3
    assert clock.sleeps == [2, 2]


def test_wait_for_database_gives_up_after_the_timeout_with_a_readable_error() -> None:
    clock = FakeClock()
    with pytest.raises(StorageUnavailable, match=r"did not answer within 2.5 s") as info:
        db.wait_for_database(_unreachable_mysql_url(), timeout_s=2.5, interval_s=1, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [1, 1, 0.5]  # tries at 0, 1, 2 and a last one at the deadline
    assert "secret" not in str(info.value)  # the password never reaches the message


def test_db_wait_command_exits_1_with_one_line_when_the_database_is_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "wait", "--url", _unreachable_mysql_url(), "--timeout", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("awsome db: The database at mysql+pymysql://awsome:***@127.0.0.1:")
    assert err[-1].endswith("did not answer within 0 s.")


def test_db_wait_command_exits_0_when_the_database_answers(tmp_path: Path) -> None:
    assert cli.main(["db", "wait", "--url", f"sqlite:///{tmp_path / 'w.db'}", "--timeout", "1"]) == 0
