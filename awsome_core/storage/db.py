"""Engines, sessions and migrations for SQLite (the default) and MySQL/MariaDB.

One :func:`make_engine` per process, one :func:`make_sessionmaker` over it; repository functions
get a session passed in. The schema changes only through Alembic: :func:`upgrade_database` runs
``alembic upgrade head`` from code (``awsome db upgrade``, the Docker entrypoint), holding a MySQL
named lock so that several replicas starting at once migrate one after the other.
"""

from __future__ import annotations

import logging
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, PoolResetState, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from awsome_core.errors import StorageUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
# NOTE: Alembic (imported lazily, only to migrate) logs a dozen INFO lines about its plugins on import.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_NAME = "awsome_migrate"
MIGRATION_LOCK_TIMEOUT_S = 60
#: Read/write timeout of migration connections: waiting for the lock, then DDL on big tables.
MIGRATION_READ_TIMEOUT_S = 3600
SQLITE_BUSY_TIMEOUT_MS = 5000
#: MySQL: a pooled connection is pinged before use only after this long unused (see _ping_only_when_idle).
PING_AFTER_IDLE_S = 10.0
#: MySQL pool: one connection per concurrently running script (Streamlit runs each session's in a thread);
#: beyond ``max_overflow`` more, a checkout waits up to ``pool_timeout``.
MYSQL_POOL_SIZE = 20
MYSQL_MAX_OVERFLOW = 10

#: Errors that mean "the server cannot be reached / is busy", not "the query is wrong".
_CONNECTION_ERRORS = (OperationalError, InterfaceError, PoolTimeout)


def make_engine(url: str | URL, *, read_timeout_s: int = 15) -> Engine:
    """Return an engine for *url* (``sqlite:///path`` or ``mysql+pymysql://user:pass@host/db``).

    MySQL: utf8mb4, 5 s connect / *read_timeout_s* read and write timeouts (migrations pass a
    longer one: they wait for a lock and run DDL), a pool of 20 (+10) connections, 10 s wait for one.
    SQLite: creates the file's directory; every connection has foreign keys on, WAL journaling and
    a busy timeout. Connections are checked before use (``pool_pre_ping``; on MySQL only one unused for
    :data:`PING_AFTER_IDLE_S`, see :func:`_ping_only_when_idle`) and recycled after 30 min.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 1800}
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb"):
        kwargs.update(pool_timeout=10, pool_size=MYSQL_POOL_SIZE, max_overflow=MYSQL_MAX_OVERFLOW)
        kwargs["pool_reset_on_return"] = None  # the reset event rolls back instead, when needed
        kwargs["connect_args"] = {
            "connect_timeout": 5,
            "read_timeout": read_timeout_s,
            "write_timeout": read_timeout_s,
            "charset": "utf8mb4",
        }
    elif backend == "sqlite":
        _create_sqlite_directory(parsed)
        kwargs["connect_args"] = {"check_same_thread": False}  # the pool hands connections across threads
    engine = create_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    elif backend in ("mysql", "mariadb"):
        _ping_only_when_idle(engine)
        _roll_back_only_when_open(engine)
    return engine


def _roll_back_only_when_open(engine: Engine) -> None:
    """Make this engine's pool roll a returned connection back only when a transaction may be open on it.

    The pool's default resets every connection it gets back with a ROLLBACK: one more round trip after each
    commit (two per photo reading, docs/performance.md), when the server has no transaction left to end.
    Here the pool's own reset is off (``pool_reset_on_return=None``, :func:`make_engine`) and its ``reset``
    event rolls back instead, unless SQLAlchemy already did (``transaction_was_reset``: a session or
    connection closed inside its transaction) or the last thing done on the connection was a commit or a
    rollback that succeeded, with no statement since. Anything else (a statement after the commit, a raw
    DBAPI cursor, a failed commit) counts as open: an open transaction is never handed on, because its
    REPEATABLE READ snapshot would hide other writers' rows from the connection's next user
    (tests/integration/test_db_pool.py). Like :func:`_ping_only_when_idle`, the overrides are on this
    engine's own dialect instance.
    """
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    ended: weakref.WeakSet[Any] = weakref.WeakSet()  # DBAPI connections whose transaction is known to be over

    def raw(connection: Any) -> Any:  # the dialect gets the pool's proxy, the pool's events the DBAPI connection
        return getattr(connection, "dbapi_connection", connection)

    def do_commit(connection: Any) -> None:
        commit(connection)
        ended.add(raw(connection))

    def do_rollback(connection: Any) -> None:
        rollback(connection)
        ended.add(raw(connection))

    def opened(connection: Any, *_: Any) -> None:  # checked out, or a statement about to run
        ended.discard(raw(connection))

    def on_reset(dbapi_connection: Any, connection_record: Any, state: PoolResetState) -> None:
        if not (state.terminate_only or state.transaction_was_reset or dbapi_connection in ended):
            rollback(dbapi_connection)
            ended.add(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]
    event.listen(engine, "checkout", opened)
    event.listen(engine, "before_cursor_execute", lambda conn, *_: opened(conn.connection))
    event.listen(engine, "reset", on_reset)


def _ping_only_when_idle(engine: Engine) -> None:
    """Make this engine's pre-ping skip connections returned to the pool less than PING_AFTER_IDLE_S ago.

    A ping is a network round trip on every checkout (about 4 per photo reading under load, docs/performance.md)
    and buys nothing for a connection that just worked: if the server went away since, the statement fails,
    SQLAlchemy sees the disconnect and discards the whole pool, and the caller gets StorageUnavailable, as it
    would have from the ping's reconnect attempt while the server is down. A connection idle for longer (the
    server's ``wait_timeout``, a restart, a failover) is still pinged and replaced before use. The override is
    on this engine's own dialect instance (``Dialect.do_ping`` is public API); other engines are unchanged.
    """
    dialect = engine.dialect
    ping = dialect.do_ping
    returned_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()  # DBAPI connection -> time

    def on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        if dbapi_connection is not None:
            returned_at[dbapi_connection] = time.monotonic()

    def do_ping(dbapi_connection: Any) -> bool:  # the pool calls it on checkout, before "checkout" events
        last = returned_at.pop(dbapi_connection, None)
        if last is not None and time.monotonic() - last < PING_AFTER_IDLE_S:
            return True
        return bool(ping(dbapi_connection))

    event.listen(engine, "checkin", on_checkin)
    dialect.do_ping = do_ping  # type: ignore[method-assign]


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory: objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(maker: sessionmaker[Session]) -> Iterator[Session]:
    """A session from *maker* whose connection failures surface as :class:`StorageUnavailable`.

    Every caller (use cases in :mod:`awsome_core.services`, the UI's reads, the API) opens sessions here,
    so "the database went away" is one error everywhere: connection refused or lost, a timed-out pool
    checkout, a connection the driver invalidated. Other database errors (a bad query, a constraint) pass
    through unchanged. The session is closed (its transaction rolled back if not committed) on exit.
    """
    try:
        with maker() as session:
            yield session
    except _CONNECTION_ERRORS as e:
        logger.warning("database unavailable: %s", type(e).__name__)
        raise StorageUnavailable() from e
    except DBAPIError as e:
        if e.connection_invalidated:
            logger.warning("database connection invalidated: %s", type(e).__name__)
            raise StorageUnavailable() from e
        raise


def check_database(engine: Engine) -> None:
    """Open a connection and run ``SELECT 1``; raise :class:`StorageUnavailable` if that fails."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except _CONNECTION_ERRORS as e:
        logger.warning("database %s unreachable: %s", _safe_url(engine.url), e)
        raise StorageUnavailable() from e


def wait_for_database(
    url: str,
    *,
    timeout_s: float = 60.0,
    interval_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Wait until the database at *url* answers ``SELECT 1``; return how many attempts that took.

    For container entrypoints, where the app may start before its database: tries at once, then every
    *interval_s* seconds until *timeout_s* seconds have passed (one last try at the deadline). Only
    connection failures are retried; a wrong URL or driver fails at once. Raises
    :class:`StorageUnavailable` when the database still does not answer after *timeout_s*.
    """
    engine = make_engine(url)
    deadline = clock() + timeout_s
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                check_database(engine)
                logger.info("database %s answered after %d attempt(s)", _safe_url(engine.url), attempts)
                return attempts
            except StorageUnavailable:
                remaining = deadline - clock()
                if remaining <= 0:
                    raise StorageUnavailable(
                        f"The database at {_safe_url(engine.url)} did not answer within {timeout_s:g} s."
                    ) from None
                sleep(min(interval_s, remaining))
    finally:
        engine.dispose()


def upgrade_database(url: str) -> None:
    """Migrate the database at *url* to the newest revision (``alembic upgrade head``); idempotent.

    Works from any working directory: the Alembic configuration is built in code. On MySQL the
    upgrade holds the named lock ``awsome_migrate`` (see :func:`migration_lock`).
    Raises :class:`StorageUnavailable` if the database cannot be reached.
    """
    from alembic import command

    engine = make_engine(url, read_timeout_s=MIGRATION_READ_TIMEOUT_S)
    try:
        check_database(engine)
        with engine.connect() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            logger.info("migrating %s to head", _safe_url(engine.url))
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """Return the revision the database at *url* is at, or None if it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        check_database(engine)
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """Return the newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError(f"no Alembic revisions found in {MIGRATIONS_DIR}")
    return head


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration pointing at the packaged migrations, for *url*.

    The URL travels in ``config.attributes["url"]`` (not the ini options, which would treat a
    ``%`` in a password as interpolation); ``migrations/env.py`` reads it from there.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


@contextmanager
def migration_lock(connection: Connection, *, timeout_s: int = MIGRATION_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold MySQL's named lock ``awsome_migrate`` for the duration (no-op on other databases).

    Named locks belong to the connection, not the transaction, so the migration may commit freely
    inside; its read timeout must exceed *timeout_s* (see :data:`MIGRATION_READ_TIMEOUT_S`).
    Raises :class:`StorageUnavailable` if another process holds the lock for *timeout_s* seconds.
    """
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    got = connection.execute(
        text("SELECT GET_LOCK(:name, :timeout)"), {"name": MIGRATION_LOCK_NAME, "timeout": timeout_s}
    ).scalar()
    connection.commit()  # end the autobegun transaction: Alembic must manage its own
    if got != 1:
        raise StorageUnavailable(
            f"Another process has been migrating the database for over {timeout_s} s; try again later."
        )
    logger.debug("acquired migration lock %s", MIGRATION_LOCK_NAME)
    try:
        yield
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        raise
    finally:
        try:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK_NAME})
            connection.commit()
        except SQLAlchemyError as e:  # the server drops the lock with the connection anyway
            logger.warning("could not release migration lock: %s", e)


def _create_sqlite_directory(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # NOTE: SQLite turns foreign keys off by default, per connection; WAL lets readers and one
    # writer work at once, and busy_timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


@contextmanager
def temporary_mysql_database(
    server: str | URL, *, prefix: str = "awsome_tmp", charset: str = "utf8mb4"
) -> Iterator[str]:
    """Create an empty database ``<prefix>_<hex>`` on the MySQL server at *server*, yield its URL, drop it.

    For tests and benchmarks. *charset* other than utf8mb4 exists to test that migrations force utf8mb4.
    """
    server_url = make_url(server).set(database=None)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    collation = "utf8mb4_unicode_ci" if charset == "utf8mb4" else f"{charset}_swedish_ci"
    admin = create_engine(server_url, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET {charset} COLLATE {collation}")
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()
