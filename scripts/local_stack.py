"""The compose stack without containers: two `streamlit run` replicas (and, with ``--api-port``, the HTTP
API at /api/) on one MySQL/MariaDB database behind nginx, all on localhost. Each replica starts through the
container entrypoint (deploy/entrypoint.sh: wait for the database, migrate under the MySQL lock, start
Streamlit), nginx uses deploy/nginx/awsome.conf.template and runs in the foreground with its own prefix in a
temporary directory (no system service, no root needed).

    .venv/bin/python scripts/local_stack.py --database-url mysql+pymysql://root@127.0.0.1:3306/awsome
    # -> http://127.0.0.1:8080 (replicas on 127.0.0.1:8501 and :8502) until Ctrl-C, which stops everything

The database must exist (``CREATE DATABASE awsome``); the replicas create the tables. Needs nginx
(``apt-get install nginx``). tests/e2e/test_replicas_e2e.py drives a browser through it across a replica
restart; scripts/bench_replica.py measures memory and CPU per replica with it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("awsome.local_stack")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = PROJECT_ROOT / "deploy" / "entrypoint.sh"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "awsome.conf.template"
REPLICAS = ("app1", "app2")  # the names the nginx template routes by
NGINX_MAIN = """\
# Written by scripts/local_stack.py: nginx in the foreground, everything under its own prefix.
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format awsome '$remote_addr "$request" $status upstream=$upstream_addr route=$cookie_awsome_replica';
    access_log {prefix}/access.log awsome;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/awsome.conf;
}}
"""


def render_nginx_site(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``${NAME}`` for the given names only, as envsubst with a variable list does (nginx's own
    ``$variables`` stay)."""
    return string.Template(template).safe_substitute(values)


def wait_for_http(url: str, *, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until *url* answers 200; raise RuntimeError after *timeout_s* or when *process* exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s:g} s")


def stop_process(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout_s: float = 15) -> None:
    """Send *sig*, wait up to *timeout_s*, then kill."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class Replica:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class LocalStack:
    """Two replicas and nginx on localhost. ``start()``/``stop()``, or use it as a context manager."""

    database_url: str
    workdir: Path
    listen_port: int = 8080
    replica_ports: tuple[int, int] = (8501, 8502)
    api_port: int | None = None  # also run `awsome api` there (nginx routes /api/ to it)
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 120.0
    replicas: dict[str, Replica] = field(init=False)
    nginx: subprocess.Popen[bytes] | None = field(default=None, init=False)
    nginx_prefix: Path | None = field(default=None, init=False)
    api: Replica | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if len(set(self.replica_ports)) != len(REPLICAS):
            raise ValueError("the replicas need two different ports (nginx tells them apart by port)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.replicas = {
            name: Replica(name, port, self.workdir / f"{name}.log")
            for name, port in zip(REPLICAS, self.replica_ports, strict=True)
        }
        if self.api_port is not None:
            self.api = Replica("api", self.api_port, self.workdir / "api.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen_port}"

    def replica_env(self, replica: Replica) -> dict[str, str]:
        """The environment of *replica*: what compose.yaml gives its containers, on localhost."""
        return {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AWSOME_ENV": "production",
            "AWSOME_DATABASE_URL": self.database_url,
            "AWSOME_DATA_DIR": str(self.workdir / "data"),  # shared by both, like the compose volume
            "STREAMLIT_SERVER_PORT": str(replica.port),
            "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
            "STREAMLIT_SERVER_HEADLESS": "true",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            **self.extra_env,
        }

    def start(self) -> LocalStack:
        """Start both replicas at once (their migrations meet at the MySQL lock), then nginx."""
        self.extra_env.setdefault("AWSOME_COOKIE_KEY", secrets.token_urlsafe(32))
        self.extra_env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_urlsafe(32))
        try:
            for replica in self.replicas.values():
                self._launch(replica)
            if self.api is not None:
                # through the entrypoint too: it waits for the database and runs `awsome api ...`
                self._launch(self.api, ["awsome", "api", "--host", "127.0.0.1", "--port", str(self.api.port)])
            for replica in self.replicas.values():
                self._wait_healthy(replica)
            if self.api is not None:
                self._wait_healthy(self.api, "/v1/health")
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        logger.info("stack up: %s -> %s", self.url, ", ".join(r.url for r in self.replicas.values()))
        return self

    def stop_replica(self, name: str, *, sig: int = signal.SIGTERM) -> None:
        """Stop one replica (SIGTERM: as a rolling restart does; SIGKILL: a crash)."""
        logger.info("stopping %s", name)
        stop_process(self.replicas[name].process, sig)

    def start_replica(self, name: str) -> None:
        """(Re)start one replica through the entrypoint and wait until it is healthy."""
        replica = self.replicas[name]
        if replica.running:
            raise RuntimeError(f"{name} is already running")
        self._launch(replica)
        self._wait_healthy(replica)

    def stop(self) -> None:
        stop_process(self.nginx, signal.SIGQUIT)  # graceful: lets open requests finish
        for replica in [*self.replicas.values(), *([self.api] if self.api else [])]:
            stop_process(replica.process)
        self.nginx = None

    def logs(self, tail_chars: int = 4000) -> str:
        """The tail of every log of the stack, for a failing test."""
        paths = [r.log_path for r in [*self.replicas.values(), *([self.api] if self.api else [])]]
        if self.nginx_prefix is not None:
            paths += [self.nginx_prefix / "error.log", self.nginx_prefix / "access.log"]
        parts = [f"----- {p.name} -----\n{p.read_text(errors='replace')[-tail_chars:]}" for p in paths if p.exists()]
        return "\n".join(parts)

    def cleanup(self) -> None:
        if self.nginx_prefix is not None:
            shutil.rmtree(self.nginx_prefix, ignore_errors=True)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.cleanup()

    # ------------------------------------------------------------------ internals

    def _launch(self, replica: Replica, command: list[str] | None = None) -> None:
        with replica.log_path.open("ab") as log:
            replica.process = subprocess.Popen(
                ["sh", str(ENTRYPOINT), *(command or [])],
                cwd=PROJECT_ROOT,
                env=self.replica_env(replica),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches this script only; it stops the rest
            )
        logger.info("started %s (pid %d) on %s", replica.name, replica.process.pid, replica.url)

    def _wait_healthy(self, replica: Replica, path: str = "/_stcore/health") -> None:
        try:
            wait_for_http(replica.url + path, timeout_s=self.startup_timeout_s, process=replica.process)
        except RuntimeError as e:
            raise RuntimeError(f"{replica.name}: {e}\n{self.logs()}") from e

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx is None:
            raise RuntimeError("nginx not found: apt-get install nginx")
        # Its own directory under /tmp, world-readable: as root, nginx's workers run as nobody.
        self.nginx_prefix = Path(tempfile.mkdtemp(prefix="awsome-nginx-"))
        self.nginx_prefix.chmod(0o755)
        (self.nginx_prefix / "tmp").mkdir()
        app1, app2 = self.replicas["app1"], self.replicas["app2"]
        site = render_nginx_site(
            NGINX_TEMPLATE.read_text(),
            {
                "APP1_HOST": "127.0.0.1",
                "APP1_PORT": str(app1.port),
                "APP2_HOST": "127.0.0.1",
                "APP2_PORT": str(app2.port),
                # without an API, /api/ answers 502 (nothing listens on port 9, discard)
                "API_HOST": "127.0.0.1",
                "API_PORT": str(self.api.port if self.api else 9),
                "LISTEN_PORT": f"127.0.0.1:{self.listen_port}",
            },
        )
        (self.nginx_prefix / "awsome.conf").write_text(site)
        conf = self.nginx_prefix / "nginx.conf"
        conf.write_text(NGINX_MAIN.format(prefix=self.nginx_prefix))
        error_log = str(self.nginx_prefix / "error.log")
        with (self.nginx_prefix / "stderr.log").open("wb") as out:
            self.nginx = subprocess.Popen(
                [nginx, "-p", str(self.nginx_prefix), "-c", str(conf), "-e", error_log],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_http(self.url + "/_stcore/health", timeout_s=20, process=self.nginx)
        except RuntimeError as e:
            stderr = (self.nginx_prefix / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"nginx: {e}\n{stderr}\n{self.logs()}") from e
        logger.info("nginx (pid %d) on %s, prefix %s", self.nginx.pid, self.url, self.nginx_prefix)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AWSOME_DATABASE_URL", ""),
        help="SQLAlchemy URL of an existing MySQL/MariaDB database (default: AWSOME_DATABASE_URL)",
    )
    parser.add_argument("--port", type=int, default=8080, help="where nginx listens (default: 8080)")
    parser.add_argument("--replica-ports", type=int, nargs=2, default=(8501, 8502), metavar=("APP1", "APP2"))
    parser.add_argument("--api-port", type=int, default=None, help="also run the HTTP API there (at /api/)")
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "data" / "local-stack", help="logs and data")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if not args.database_url.startswith(("mysql", "mariadb")):
        logger.error("--database-url (or AWSOME_DATABASE_URL) must be a MySQL/MariaDB URL")
        return 2
    stack = LocalStack(args.database_url, args.workdir, args.port, tuple(args.replica_ports), args.api_port)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with stack:
        logger.info("open %s; logs in %s; Ctrl-C stops everything", stack.url, args.workdir)
        while not stopping:
            for replica in stack.replicas.values():
                if not replica.running:
                    logger.error("%s exited; see %s", replica.name, replica.log_path)
                    stopping = True
            time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
