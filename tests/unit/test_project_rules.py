"""Rules of the codebase that a test can hold: layering, documented settings, no secrets."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess

from awsome_core.config import Settings
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


def test_no_secrets_in_tracked_files() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    pattern = re.compile(
        r"(AKIA[0-9A-Z]{16}|-----BEGIN (RSA |EC )?PRIVATE KEY-----|xox[baprs]-[0-9A-Za-z-]{10,}|ghp_[0-9A-Za-z]{36})"
    )
    hits = []
    for name in files.split():
        path = PROJECT_ROOT / name
        if path.suffix in {".tflite", ".keras", ".png", ".jpg", ".y4m"} or not path.is_file():
            continue
        if pattern.search(path.read_text(errors="ignore")):
            hits.append(name)
    assert hits == []
    assert ".streamlit/secrets.toml" not in files.split()
