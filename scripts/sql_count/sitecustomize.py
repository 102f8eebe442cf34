"""Counts a Streamlit server's database round trips, for ``scripts/load_test.py --count-sql`` (issue #14).

Loaded by Python at start-up (``sitecustomize``) only when the load script puts this folder on the server's
``PYTHONPATH``; it does nothing unless ``AWSOME_SQL_COUNT_FILE`` is set. Counts every statement by its first
word (``select``, ``insert`` ...), every ``ping`` (``pool_pre_ping``), ``commit`` and ``rollback`` the dialect
sends (a pool's reset-on-return included), and each new ``connect``; a daemon thread writes the totals to
that file as JSON every 2 s. Never part of the app.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from pathlib import Path
from typing import Any

_FILE = os.environ.get("AWSOME_SQL_COUNT_FILE")


def _install(path: Path) -> None:
    from sqlalchemy import event
    from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def count(key: str) -> None:
        with lock:
            counts[key] += 1

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        count(statement.split(None, 1)[0].lower() if statement.strip() else "empty")

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Pool, "connect", lambda *a: count("connect"))

    def wrap(name: str) -> None:
        original = getattr(MySQLDialect_pymysql, name)

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            count(name.removeprefix("do_"))
            return original(self, *args, **kwargs)

        setattr(MySQLDialect_pymysql, name, wrapped)

    for name in ("do_ping", "do_commit", "do_rollback"):
        wrap(name)

    def dump() -> None:
        while True:
            with lock:
                data = dict(counts)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(path)
            threading.Event().wait(2.0)

    threading.Thread(target=dump, daemon=True, name="sql-count").start()


if _FILE:
    _install(Path(_FILE))
