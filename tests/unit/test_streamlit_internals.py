"""Streamlit internals app.py relies on: these fail loudly when an upgrade changes them (DESIGN: private APIs
of dependencies only behind a test)."""

from __future__ import annotations

import inspect
from pathlib import Path

from PIL import Image
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from tests.conftest import PROJECT_ROOT


def test_the_pages_directory_flag_still_switches_the_first_run_to_file_names() -> None:
    """app.py hides the file-name navigation Streamlit shows while this flag is set (first run per process)."""
    assert hasattr(PagesManager, "uses_pages_directory")
    source = inspect.getsource(script_runner)
    assert "if PagesManager.uses_pages_directory:" in source and "_mpa_v1(" in source
    assert 'pages_folder.glob("*.py")' in source  # the file names it would show


def test_app_guards_the_first_run_and_bundles_its_icon() -> None:
    app = (PROJECT_ROOT / "app.py").read_text()
    assert "if PagesManager.uses_pages_directory:" in app and 'position="hidden"' in app
    assert ":material/" not in app.split("st.set_page_config(")[1].split(")")[0]  # no icon font from a CDN
    icon = PROJECT_ROOT / "ui" / "static" / "awsome-icon.png"
    with Image.open(icon) as image:
        assert image.format == "PNG" and image.size == (64, 64)
    assert Path(icon).stat().st_size < 16_000
