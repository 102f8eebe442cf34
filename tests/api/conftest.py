"""A real ``awsome api`` process per backend (SQLite, and MariaDB where ``AWSOME_TEST_MYSQL_URL`` is set), with
two users and their tokens. Requests go over HTTP with httpx, like any client's."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from awsome_core import auth
from awsome_core.services import tokens
from awsome_core.storage.db import make_engine, make_sessionmaker, upgrade_database
from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import free_port
from tests.integration.conftest import mysql_server, require_mysql_server, throwaway_mysql_database

__all__ = ["mysql_server"]
BIN = Path(sys.executable).parent
PASSWORD = "correct-horse-battery"
RATE_LIMIT = 20  # analyses per token per minute on the test server


@dataclass
class Api:
    url: str
    database_url: str
    sessions: sessionmaker[Session]
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    users: dict[str, int]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, user: str | None = None, *, token: str | None = None) -> httpx.Client:
        """An httpx client for *user* (a fresh token each call) or with *token*; no auth when both are None."""
        if user is not None:
            token = tokens.create_token(sessions=self.sessions, user_id=self.users[user], name="test").token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_api(tmp: Path, database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None) -> Api:
    port = free_port()
    env = {
        **os.environ,
        "AWSOME_DATABASE_URL": database_url,
        "AWSOME_DATA_DIR": str(tmp / "data"),
        "AWSOME_API_ANALYSES_PER_MINUTE": str(RATE_LIMIT),
        "AWSOME_MAX_UPLOAD_MB": "2",
        **(extra_env or {}),
    }
    upgrade_database(database_url)
    log_path = tmp / f"api-{port}.log"
    cmd = [str(BIN / "awsome"), "api", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"awsome api exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                break
        time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError(f"awsome api did not answer within 60 s:\n{log_path.read_text()}")
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    users = {}
    with sessions() as session:
        for name in ("alice", "bob"):
            user = auth.register_user(session=session, username=name, display_name=name.title(), password=PASSWORD)
            users[name] = user.id
    return Api(url, database_url, sessions, process, log_path, env, users)


def stop_api(api: Api) -> None:
    api.process.terminate()
    try:
        api.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        api.process.kill()
    api.sessions.kw["bind"].dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mysql_server: object
) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{tmp / 'data' / 'awsome.db'}"
        else:
            server = require_mysql_server(mysql_server)  # type: ignore[arg-type]
            database_url = stack.enter_context(throwaway_mysql_database(server))
        server_api = start_api(tmp, database_url)
        try:
            yield server_api
        finally:
            stop_api(server_api)
            assert "Traceback" not in server_api.log(), server_api.log()


def astronaut_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """skimage's astronaut (a real, smiling face) centred on a *width*×*height* BGR canvas."""
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    side = min(width, height)
    face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 90, np.uint8)
    x = (width - side) // 2
    canvas[:, x : x + side] = face
    return canvas


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    return jpeg(astronaut_frame())
