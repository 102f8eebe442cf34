"""MySQL pre-ping only where it can help (issue #14): a connection back in the pool a moment ago is used as is,
one idle for longer is pinged first; either way a dead server is one StorageUnavailable, never a hang."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql

from awsome_core.storage import db
from tests.conftest import skip_or_fail


@pytest.fixture
def mysql_url() -> str:
    server = os.environ.get("AWSOME_TEST_MYSQL_URL")
    if not server:
        skip_or_fail("AWSOME_TEST_MYSQL_URL is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    return server


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    real = MySQLDialect_pymysql.do_ping

    def counting(self: MySQLDialect_pymysql, dbapi_connection: object) -> bool:
        calls.append(dbapi_connection)
        return real(self, dbapi_connection)

    monkeypatch.setattr(MySQLDialect_pymysql, "do_ping", counting)
    return calls


def _select_one_twice(url: str) -> None:
    engine = db.make_engine(url)
    try:
        for _ in range(2):
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_connection_just_returned_is_not_pinged(mysql_url: str, pings: list[object]) -> None:
    _select_one_twice(mysql_url)
    assert pings == []  # the first checkout is a fresh connection, the second one was returned just now


def test_a_connection_idle_for_longer_is_pinged(
    mysql_url: str, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    _select_one_twice(mysql_url)
    assert len(pings) == 1
