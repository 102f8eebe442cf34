"""Database fixtures: every test gets a fresh, empty database on SQLite and on MySQL/MariaDB.

``db_url`` is a SQLite file in ``tmp_path``, or a throwaway ``awsome_test_<hex>`` database (utf8mb4)
on the server named by ``AWSOME_TEST_MYSQL_URL`` (e.g. ``mysql+pymysql://root@127.0.0.1:3306/``),
dropped afterwards. Without that variable, or with the server down, the MySQL variants skip
(or fail under ``AWSOME_REQUIRE_ALL=1``). ``engine`` is migrated to head with Alembic, as in
production; ``session`` is a plain session on it, rolled back at the end (code under test may
commit: the database is thrown away anyway).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from awsome_core.storage.db import make_engine, make_sessionmaker, temporary_mysql_database, upgrade_database
from tests.conftest import skip_or_fail

MYSQL_URL_VARIABLE = "AWSOME_TEST_MYSQL_URL"


@pytest.fixture(scope="session")
def mysql_server() -> tuple[URL | None, str]:
    """The MySQL server URL (no database) and, when it cannot be used, why not."""
    raw = os.environ.get(MYSQL_URL_VARIABLE, "")
    if not raw:
        return None, f"{MYSQL_URL_VARIABLE} is not set (e.g. mysql+pymysql://root@127.0.0.1:3306/)"
    url = make_url(raw).set(database=None)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as e:
        return None, f"MySQL server {url.render_as_string(hide_password=True)} unreachable: {e.__cause__ or e}"
    finally:
        engine.dispose()
    return url, ""


def throwaway_mysql_database(server: URL, *, charset: str = "utf8mb4") -> ContextManager[str]:
    """An empty database ``awsome_test_<hex>`` with *charset* on *server*, dropped afterwards."""
    return temporary_mysql_database(server, prefix="awsome_test", charset=charset)


def require_mysql_server(mysql_server: tuple[URL | None, str]) -> URL:
    url, reason = mysql_server
    if url is None:
        skip_or_fail(reason)
    assert url is not None
    return url


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, mysql_server: tuple[URL | None, str]) -> Iterator[str]:
    """URL of a fresh, empty (unmigrated) database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'awsome.db'}"
        return
    with throwaway_mysql_database(require_mysql_server(mysql_server)) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Engine on a database migrated to head with Alembic (``upgrade_database``)."""
    upgrade_database(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session
        session.rollback()
