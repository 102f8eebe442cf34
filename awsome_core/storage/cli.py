"""``awsome db``: database migrations.

    awsome db upgrade [--url URL]   # migrate to the newest revision (the Docker entrypoint runs this)
    awsome db current [--url URL]   # print the database's revision and the newest one
    awsome db wait [--timeout S]    # wait until the database answers (container entrypoint, before upgrade)

The URL defaults to ``AWSOME_DATABASE_URL`` (or the SQLite file under ``AWSOME_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import make_url

from awsome_core.config import Settings
from awsome_core.storage.db import current_revision, head_revision, upgrade_database, wait_for_database

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="awsome db", description="Database migrations (Alembic).")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("upgrade", "migrate the database to the newest revision"),
        ("current", "print the database's revision and the newest one"),
        ("wait", "wait until the database answers (exit 1 after --timeout seconds)"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--url", help="SQLAlchemy URL (default: AWSOME_DATABASE_URL or the SQLite file)")
        if name == "wait":
            sub.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default: 60)")
            sub.add_argument("--interval", type=float, default=1.0, help="seconds between tries (default: 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    url: str = args.url or Settings.load().effective_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    if args.command == "wait":
        wait_for_database(url, timeout_s=args.timeout, interval_s=args.interval)
        return 0
    if args.command == "upgrade":
        upgrade_database(url)
        logger.info("database %s is at revision %s (head)", shown, head_revision())
        if Settings.load().starter_catalog:
            _install_starter_catalog(url)
        return 0
    current, head = current_revision(url), head_revision()
    state = "up to date" if current == head else "needs `awsome db upgrade`"
    sys.stdout.write(f"{current or 'none'} (head: {head}, {state})\n")
    return 0


def _install_starter_catalog(url: str) -> None:
    """The packaged starter music catalog, imported once (idempotent): the default install plays Spotify embeds."""
    from awsome_core.music.starter import install_starter_catalog
    from awsome_core.storage.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        added = install_starter_catalog(make_sessionmaker(engine))
        logger.info("starter music catalog: %d tracks added", added)
    finally:
        engine.dispose()
