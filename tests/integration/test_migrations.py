"""Alembic migrations and the ``db`` module, on SQLite and MySQL/MariaDB.

The schema the migrations build must be exactly ``models.py``'s: autogenerate, run against a
freshly upgraded database, must find nothing to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, event, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from awsome_core.errors import StorageUnavailable
from awsome_core.storage import cli
from awsome_core.storage.db import (
    alembic_config,
    check_database,
    current_revision,
    head_revision,
    make_engine,
    migration_lock,
    upgrade_database,
)
from awsome_core.storage.models import Base, Track
from tests.conftest import PROJECT_ROOT
from tests.integration.conftest import require_mysql_server, throwaway_mysql_database

TABLES = {
    "users",
    "login_throttle",
    "tracks",
    "mood_events",
    "recommendations",
    "feedback",
    "api_tokens",
    "mood_event_photos",
}


def _schema_diff(url: str, metadata: MetaData = Base.metadata) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- upgrade / downgrade


def test_upgrade_database_builds_exactly_the_models_schema(db_url: str) -> None:
    upgrade_database(db_url)
    assert _table_names(db_url) == TABLES | {"alembic_version"}
    assert _schema_diff(db_url) == []


def test_schema_diff_detects_a_difference(db_url: str) -> None:
    # Guards the test above: the comparison must be able to see a schema that differs.
    upgrade_database(db_url)
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("extra_table", metadata, Column("id", Integer, primary_key=True))
    diff = _schema_diff(db_url, metadata)
    assert [entry[0] for entry in diff] == ["add_table"]


def test_upgrade_database_twice_is_a_no_op(db_url: str) -> None:
    upgrade_database(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        session.add(Track(title="Kept", artists="A", source="test"))
        session.commit()
    upgrade_database(db_url)
    with Session(engine) as session:
        titles = session.scalars(select(Track.title)).all()
    engine.dispose()
    assert titles == ["Kept"]
    assert current_revision(db_url) == head_revision()
    assert _schema_diff(db_url) == []


def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    upgrade_database(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        config = alembic_config(db_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()
    assert _table_names(db_url) == {"alembic_version"}
    assert current_revision(db_url) is None
    upgrade_database(db_url)
    assert current_revision(db_url) == head_revision()
    assert _schema_diff(db_url) == []


def test_migration_0002_moves_photo_files_into_the_database(db_url: str, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    engine = make_engine(db_url)
    with engine.connect() as connection:
        config = alembic_config(db_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    photo = tmp_path / "images" / "1" / "kept.img"
    photo.parent.mkdir(parents=True)
    big = np.full((1600, 2400, 3), 120, np.uint8)
    photo.write_bytes(cv2.imencode(".png", big)[1].tobytes())
    missing = tmp_path / "images" / "1" / "gone.img"
    probs = "0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, password_hash, store_images, created_at,"
                " password_changed_at) VALUES (1, 'ann', 'Ann', 'x', 1, '2026-01-01', '2026-01-01')"
            )
        )
        for event_id, path in ((1, photo), (2, missing)):
            connection.execute(
                text(
                    "INSERT INTO mood_events (id, user_id, created_at, angry, disgust, fear, happy, sad, surprise,"
                    f" neutral, valence, arousal, top_emotion, source, model_version, face_count, image_path)"
                    f" VALUES ({event_id}, 1, '2026-01-01', {probs}, 0.5, 0.1, 'happy', 'photo', 'm', 1, :path)"
                ),
                {"path": str(path)},
            )
    upgrade_database(db_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT mood_event_id, width, height, content_type FROM mood_event_photos"))
        moved = [tuple(r) for r in rows]
        paths = dict(connection.execute(text("SELECT id, image_path FROM mood_events")).all())
    engine.dispose()
    assert moved == [(1, 1024, 683, "image/jpeg")]  # downscaled to a long side of 1024
    assert paths == {1: None, 2: str(missing)}  # the missing file keeps its path: nothing lost silently
    assert not photo.exists()


def test_current_revision_is_none_before_upgrade(db_url: str) -> None:
    assert current_revision(db_url) is None


def test_upgrade_database_creates_sqlite_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'awsome.db'}"
    upgrade_database(url)
    assert (tmp_path / "a" / "b" / "awsome.db").is_file()


def test_upgrade_database_works_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    upgrade_database("sqlite:///relative.db")
    assert _table_names(f"sqlite:///{tmp_path / 'relative.db'}") == TABLES | {"alembic_version"}


# ----------------------------------------------------------------------------- engines


def test_make_engine_sqlite_turns_on_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_make_engine_mysql_passes_timeouts_and_utf8mb4() -> None:
    engine = make_engine("mysql+pymysql://nobody@127.0.0.1:1/awsome")  # port 1: connection refused
    seen: dict[str, Any] = {}
    event.listen(engine, "do_connect", lambda dialect, record, cargs, cparams: seen.update(cparams))
    with pytest.raises(StorageUnavailable):
        check_database(engine)
    engine.dispose()
    assert {k: seen.get(k) for k in ("connect_timeout", "read_timeout", "write_timeout", "charset")} == {
        "connect_timeout": 5,
        "read_timeout": 15,
        "write_timeout": 15,
        "charset": "utf8mb4",
    }
    assert engine.pool.timeout() == 10  # type: ignore[attr-defined]


def test_check_database_raises_storage_unavailable_when_unreachable() -> None:
    engine = make_engine("mysql+pymysql://nobody@127.0.0.1:1/awsome")  # port 1: connection refused
    with pytest.raises(StorageUnavailable):
        check_database(engine)
    engine.dispose()


def test_upgrade_database_raises_storage_unavailable_when_unreachable() -> None:
    with pytest.raises(StorageUnavailable):
        upgrade_database("mysql+pymysql://nobody@127.0.0.1:1/awsome")


# ----------------------------------------------------------------------------- MySQL specifics


@pytest.mark.mysql
def test_upgrade_database_makes_utf8mb4_tables_on_a_latin1_database(mysql_server: tuple[URL | None, str]) -> None:
    server = require_mysql_server(mysql_server)
    with throwaway_mysql_database(server, charset="latin1") as url:
        upgrade_database(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            collations = connection.execute(
                text(
                    "SELECT table_name, table_collation FROM information_schema.tables WHERE table_schema = DATABASE()"
                )
            ).all()
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, store_images, created_at,"
                    " password_changed_at) VALUES ('zoë', 'Zoë 😀', 'x', 0, NOW(), NOW())"
                )
            )
            shown = connection.execute(text("SELECT display_name FROM users WHERE username = 'zoë'")).scalar_one()
        engine.dispose()
    assert {name: collation for name, collation in collations if name in TABLES} == dict.fromkeys(TABLES, "utf8mb4_bin")
    assert shown == "Zoë 😀"


@pytest.mark.mysql
def test_migration_lock_times_out_while_another_connection_holds_it(mysql_server: tuple[URL | None, str]) -> None:
    server = require_mysql_server(mysql_server)
    with throwaway_mysql_database(server) as url:
        holder_engine, waiter_engine = make_engine(url), make_engine(url)
        with holder_engine.connect() as holder, waiter_engine.connect() as waiter:
            with migration_lock(holder, timeout_s=1):
                with pytest.raises(StorageUnavailable, match="migrating"):
                    with migration_lock(waiter, timeout_s=1):
                        pass
            with migration_lock(waiter, timeout_s=1):  # released by the holder: free again
                held = waiter.execute(text("SELECT IS_USED_LOCK('awsome_migrate') = CONNECTION_ID()")).scalar()
        holder_engine.dispose()
        waiter_engine.dispose()
    assert held == 1


@pytest.mark.mysql
@pytest.mark.slow
def test_upgrade_database_waits_for_the_lock_longer_than_the_read_timeout(
    mysql_server: tuple[URL | None, str],
) -> None:
    # A replica waiting on GET_LOCK sits in one long query: it must outlast the app's 15 s read timeout.
    server = require_mysql_server(mysql_server)
    with throwaway_mysql_database(server) as url:
        holder_engine = make_engine(url)
        with holder_engine.connect() as holder, migration_lock(holder):
            timer = threading.Timer(17, holder.invalidate)  # drops the connection, and the lock with it
            timer.start()
            started = time.monotonic()
            try:
                upgrade_database(url)
            finally:
                timer.cancel()
            waited = time.monotonic() - started
        holder_engine.dispose()
        assert current_revision(url) == head_revision()
    assert waited >= 16


@pytest.mark.mysql
@pytest.mark.slow
def test_upgrade_database_from_three_processes_at_once(mysql_server: tuple[URL | None, str]) -> None:
    server = require_mysql_server(mysql_server)
    with throwaway_mysql_database(server) as url:
        env = {**os.environ, "AWSOME_LOG_LEVEL": "WARNING"}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "awsome_core", "db", "upgrade", "--url", url],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "") for p in processes]
        assert [code for code, _ in outputs] == [0, 0, 0], outputs
        assert current_revision(url) == head_revision()
        assert _schema_diff(url) == []


# ----------------------------------------------------------------------------- awsome db


def test_cli_upgrade_then_current_reports_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["current", "--url", url]) == 0
    before = capsys.readouterr().out
    assert cli.main(["upgrade", "--url", url]) == 0
    assert cli.main(["current", "--url", url]) == 0
    after = capsys.readouterr().out
    assert before.startswith("none ") and "needs `awsome db upgrade`" in before
    assert after == f"{head_revision()} (head: {head_revision()}, up to date)\n"


def test_cli_upgrade_defaults_to_settings_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWSOME_DATABASE_URL", "")
    monkeypatch.setenv("AWSOME_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["upgrade"]) == 0
    assert current_revision(f"sqlite:///{tmp_path / 'data' / 'awsome.db'}") == head_revision()


def test_awsome_db_upgrade_unreachable_exits_1_without_showing_the_password() -> None:
    url = "mysql+pymysql://nobody:s3cr3t-pw@127.0.0.1:1/x"
    result = subprocess.run(
        [sys.executable, "-m", "awsome_core", "db", "upgrade", "--url", url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWSOME_LOG_LEVEL": "WARNING"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"awsome db: {StorageUnavailable()}"
    assert "127.0.0.1:1" in result.stderr  # the warning says which server
    assert "s3cr3t-pw" not in result.stderr
