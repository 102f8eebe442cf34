"""Rules of the codebase that a test can hold: layering, documented settings, no secrets."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
from pathlib import Path

from awsome_core.config import DEFAULT_COOKIE_KEY, Settings
from awsome_core.errors import ConfigError
from tests.conftest import PROJECT_ROOT

UI_MODULES = ("streamlit", "streamlit_webrtc", "streamlit_authenticator", "extra_streamlit_components")


def test_library_never_imports_streamlit() -> None:
    offenders = []
    for path in (PROJECT_ROOT / "awsome_core").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(PROJECT_ROOT)}: {n}" for n in names if n.split(".")[0] in UI_MODULES]
    assert offenders == []


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\|\s*`(AWSOME_[A-Z_]+)`", readme, flags=re.M))
    expected = {Settings.env_name(f.name) for f in dataclasses.fields(Settings)}
    assert expected - rows == set(), "settings missing from the README table"
    assert rows - expected == set(), "README documents settings that do not exist"


# ----------------------------------------------------------------------------- secrets (issue #7, item 7)

#: Shapes of real credentials, anywhere in a tracked file.
SECRET_SHAPES = re.compile(
    r"((?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|(?i:aws.{0,20}secret.{0,20}[=:]\s*[\"']?)[A-Za-z0-9/+]{40}"  # AWS secret access key
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"
    r"|xox[baprs]-[0-9A-Za-z-]{10,}"  # Slack
    r"|(?:ghp|gho|ghs|ghu|ghr)_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{40,}"  # GitHub
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|sk_live_[0-9A-Za-z]{20,}|sk-[A-Za-z0-9_-]{32,}|hf_[A-Za-z0-9]{30,}"  # Stripe, OpenAI, Hugging Face
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # a signed JWT (a login cookie)
    r"|(?i:client.?secret\W{1,4})[0-9a-f]{32})"  # Spotify-style client secret
)
#: A secret-named setting given a literal value (outside tests, which need fixed test passwords).
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b[\w.-]*(?:password|passwd|secret|token|api.?key|cookie.?key|credential)[\w.-]*[\"']?\s*[:=]\s*"
    r"[\"']?([^\s\"',;#}]{8,})"
)
#: user:password@host in a URL.
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"]+)@")
#: What placeholders look like: they are fine (production refuses them, see below).
PLACEHOLDER = re.compile(
    r"(?i)change.?me|replace.?with|example|placeholder|dev.?only|insecure|your.?|xxx|test|fake|dummy|\.\.\.|"
    r"^\$\{|^<|^%\(|^\*+$|^[A-Z_]+$|^(pass|password|secret|token)$"
)
NEVER_TRACKED = re.compile(r"(^|/)(\.env|secrets\.toml|id_[rd]sa[^/]*|credentials\.json|[^/]*\.(pem|key|p12|pfx))$")
BINARY = {".tflite", ".keras", ".png", ".jpg", ".jpeg", ".y4m", ".npz", ".gz", ".ico", ".webp"}


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


def find_secrets(name: str, content: str) -> list[str]:
    """What in *content* (the file *name*) looks like a real secret; placeholders and code are not."""
    hits = [m.group(0)[:12] + "…" for m in SECRET_SHAPES.finditer(content)]
    literal = []
    if not name.startswith("tests/"):  # tests hold fixed test passwords, and URLs whose password must be masked
        literal += [m.group(1) for m in URL_CREDENTIALS.finditer(content)]
        literal += [m.group(1) for m in SECRET_ASSIGNMENT.finditer(content)]
    for value in literal:
        code = (re.fullmatch(r"[A-Za-z_][\w.\[\]()]*", value) and not re.search(r"\d", value)) or (
            value.startswith(("`", "$(", "${")) or "(" in value  # a call, a shell substitution, a code span
        )
        if not (code or PLACEHOLDER.search(value)):
            hits.append(value[:3] + "…")
    return hits


def test_no_secrets_in_tracked_files() -> None:
    hits = {}
    for name in _tracked_files():
        path = PROJECT_ROOT / name
        if Path(name).suffix in BINARY or not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        if found := find_secrets(name, path.read_text(errors="ignore")):
            hits[name] = found
    assert hits == {}


def test_no_secret_files_are_tracked() -> None:
    assert [name for name in _tracked_files() if NEVER_TRACKED.search(name)] == []


def test_secret_scanner_finds_planted_secrets_and_passes_placeholders() -> None:
    """The scanner itself: real-looking secrets are found, placeholders and code are not (built at run time,
    so that no secret-shaped string is committed)."""
    aws, gh = "AKIA" + "Q" * 16, "ghp_" + "a1B2" * 9
    jwt = "eyJ" + "hbGciOiJIUzI1NiJ9x" + ".eyJ" + "1c2VybmFtZSI6ImEifQx" + ".Sig" + "nature_0123456789"
    planted = {
        "aws key id": f"key = {aws}",
        "github token": f"token: {gh}",
        "private key": "-----BEGIN " + "PRIVATE KEY-----",
        "jwt": f"cookie={jwt}",
        "spotify secret": "SPOTIFY_CLIENT_SECRET=" + "0123456789abcdef" * 2,
        "password in a URL": "mysql+pymysql://awsome:" + "hunter2hunter2" + "@db:3306/awsome",
        "literal password": 'db_password = "' + "S3cr3t-Pa55w0rd" + '"',
        "cookie key in env": "AWSOME_COOKIE_KEY=" + "q8Zr2LmX0vTn4Kp7Yb",
    }
    for what, line in planted.items():
        assert find_secrets("deploy/x.conf", line), what
    fine = [
        "MYSQL_PASSWORD=CHANGE-ME-mysql-awsome",
        'cookie_key = "replace-with-a-long-random-string"',
        "mysql+pymysql://awsome:${MYSQL_PASSWORD:?set it}@db:3306/awsome",
        "mysql+pymysql://user:pass@host:3306/awsome",
        "mysql+pymysql://awsome:PASSWORD@HOST:3306/awsome",
        "password_hash=password_hash",
        'WRONG_CREDENTIALS = "Wrong username or password."',
        "cookie_key=settings.cookie_key",
    ]
    assert [line for line in fine if find_secrets("deploy/x.conf", line)] == []
    assert find_secrets("tests/unit/test_x.py", 'PASSWORD = "correct-horse-battery"') == []  # a test fixture


def test_production_refuses_every_cookie_key_the_repository_shows() -> None:
    """Keys in committed examples and docs -- what a deployer might copy -- and the built-in default are refused
    when AWSOME_ENV=production."""
    pattern = re.compile(r"(?i)(?:AWSOME_COOKIE_KEY|cookie_key)\s*[=:]\s*[\"']?([^\s\"'`]{8,})")
    keys = {DEFAULT_COOKIE_KEY}
    for name in _tracked_files():
        path = PROJECT_ROOT / name
        if Path(name).suffix not in BINARY | {".py"} and path.is_file():
            keys |= {m.group(1) for m in pattern.finditer(path.read_text(errors="ignore"))}
    keys = {k for k in keys if not re.fullmatch(r"[\w.\[\]()]*,?|\$\{.*", k)}  # references, not values
    assert len(keys) >= 3  # the default, secrets.toml.example, deploy/compose.env.example
    accepted = []
    for key in sorted(keys):
        try:
            Settings.load(environ={"AWSOME_ENV": "production", "AWSOME_COOKIE_KEY": key})
            accepted.append(key)
        except ConfigError:
            pass
    assert accepted == []
    assert ".streamlit/secrets.toml" not in _tracked_files()
