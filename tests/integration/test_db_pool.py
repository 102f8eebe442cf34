"""MySQL: a connection back in the pool is rolled back only when a transaction is open on it (issue #14).

The rule saves a ROLLBACK round trip after every commit; what it must never do is hand on a connection with
an open transaction, whose REPEATABLE READ snapshot would hide other writers' rows from its next user.
"""

from __future__ import annotations

from collections.abc import Iterator

import pymysql.connections
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from awsome_core.storage import db
from tests.integration.conftest import require_mysql_server, throwaway_mysql_database


@pytest.fixture
def one_connection(mysql_server: tuple[URL | None, str]) -> Iterator[Engine]:
    """An engine of this app's settings on a throwaway database with a table ``t``, its pool one connection."""
    with throwaway_mysql_database(require_mysql_server(mysql_server)) as url:
        engine = db.make_engine(url)
        engine.pool = engine.pool.recreate()
        engine.pool._pool.maxsize = 1  # NOTE: QueuePool's queue: every checkout gets the same connection
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (n INT) ENGINE=InnoDB"))
        yield engine
        engine.dispose()


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    real = pymysql.connections.Connection.rollback

    def counting(self: pymysql.connections.Connection) -> None:
        calls.append(self)
        real(self)

    monkeypatch.setattr(pymysql.connections.Connection, "rollback", counting)
    return calls


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())


def _insert_elsewhere(engine: Engine) -> None:
    """A row written by another client (its own connection, outside this engine's pool)."""
    other = db.make_engine(engine.url)
    try:
        with other.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        other.dispose()


def test_a_committed_connection_goes_back_without_a_rollback(one_connection: Engine, rollbacks: list[object]) -> None:
    with one_connection.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (0)"))
    assert rollbacks == []


def test_a_read_left_open_is_rolled_back_and_the_next_user_sees_new_rows(
    one_connection: Engine, rollbacks: list[object]
) -> None:
    raw = one_connection.raw_connection()  # a DBAPI user SQLAlchemy cannot reset: the status decides
    cursor = raw.cursor()
    cursor.execute("SELECT count(*) FROM t")  # opens a transaction (autocommit is off): a snapshot
    assert cursor.fetchone() == (0,)
    cursor.close()
    raw.close()
    assert len(rollbacks) == 1
    _insert_elsewhere(one_connection)
    assert _count(one_connection) == 1  # the same pooled connection, with a fresh snapshot


def test_a_connection_closed_inside_its_transaction_is_rolled_back_once(
    one_connection: Engine, rollbacks: list[object]
) -> None:
    with one_connection.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    assert len(rollbacks) == 1  # SQLAlchemy's own rollback; the pool's reset does not add a second
    _insert_elsewhere(one_connection)
    assert _count(one_connection) == 1
