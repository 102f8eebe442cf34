"""``awsome api [--host 127.0.0.1] [--port 8000] [--workers N] [--root-path /api]``: serve the API with uvicorn.

Outside production the database is migrated once here, before the workers start (as the Streamlit app does
on its first run); in production the container entrypoint migrates. Each worker process builds its own app
(:func:`factory`): its own engine, model and rate-limit buckets.
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from awsome_core.config import Settings
from awsome_core.storage.db import upgrade_database

logger = logging.getLogger(__name__)
ROOT_PATH_ENV = "AWSOME_API_ROOT_PATH"


def factory() -> object:
    """uvicorn's app factory, run in each worker process."""
    from api.app import create_app

    return create_app(root_path=os.environ.get(ROOT_PATH_ENV, ""))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="awsome api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (about one per core)")
    parser.add_argument("--root-path", default="", help="path prefix a proxy strips, e.g. /api (for the docs)")
    args = parser.parse_args(argv)
    settings = Settings.load()  # fail here, once, with a readable message, not in every worker
    if not settings.is_production:
        upgrade_database(settings.effective_database_url)
    os.environ[ROOT_PATH_ENV] = args.root_path
    logger.info("AWSome API on http://%s:%d (%d worker(s))", args.host, args.port, args.workers)
    uvicorn.run(
        "api.server:factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        server_header=False,
    )
    return 0
