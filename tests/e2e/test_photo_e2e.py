"""The photo page in a real Chromium: upload the astronaut, see the box and the chart, confirm, get music;
bad files get a clear message and store nothing."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.conftest import PROJECT_ROOT, shared_data_path
from tests.e2e.helpers import expect_signed_in, open_page, register

PASSWORD = "correct-horse-battery"


def _astronaut_jpeg(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


def _events(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT source, top_emotion FROM mood_events")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _count(db_url: str, table_and_where: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as c:
        n = c.execute(text(f"SELECT COUNT(*) FROM {table_and_where}")).scalar_one()
    engine.dispose()
    return int(n)


def _wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.25)


def _open_photo_page(app_factory, new_page, tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    app = app_factory(db_url)
    catalog = shared_data_path("music", "data_moods.csv")
    subprocess.run(
        [str(Path(sys.executable).parent / "awsome"), "catalog", "import", str(catalog)],
        env={**app.env},
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    page = new_page()
    page.goto(app.url)
    register(page, "photouser", "Photo User", PASSWORD)
    expect_signed_in(page)
    open_page(page, "Photo")
    return page, db_url


def test_photo_upload_shows_box_chart_and_embeds(app_factory, new_page, tmp_path: Path) -> None:
    page, db_url = _open_photo_page(app_factory, new_page, tmp_path)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(_astronaut_jpeg(tmp_path / "astronaut.jpg"))
    )
    expect(page.get_by_text("1 face(s)")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stImage")).to_have_count(1)
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=30_000)
    expect(page.get_by_role("combobox", name="Whose mood?")).to_have_value(re.compile(r"^Face 1: happy"))
    assert _events(db_url) == []  # nothing stored before the user confirms
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('iframe')).filter(f => "
        "(f.src || '').includes('open.spotify.com/embed/track/')).length >= 5",
        timeout=30_000,
    )
    assert _events(db_url) == [("photo", "happy")]
    assert _count(db_url, "recommendations") >= 5

    page.get_by_role("button", name="thumb_up").first.click()  # like the first pick: stored as feedback
    _wait_until(lambda: _count(db_url, "feedback WHERE value = 1") == 1)
    assert page.dialogs == []


@pytest.mark.parametrize(
    "name, payload, message",
    [
        ("truncated.jpg", "truncated", "damaged or incomplete"),
        ("notes.jpg", "text", "not a picture"),
        ("empty.png", "empty", "empty"),
        ("bomb.png", "bomb", "20000×20000"),
        ("noface.png", "noface", "could not find a face"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_store_nothing(
    app_factory, new_page, tmp_path: Path, name: str, payload: str, message: str
) -> None:
    page, db_url = _open_photo_page(app_factory, new_page, tmp_path)
    path = tmp_path / name
    if payload == "truncated":
        full = _astronaut_jpeg(tmp_path / "full.jpg").read_bytes()
        path.write_bytes(full[: len(full) // 3])
    elif payload == "text":
        path.write_text("these are my notes, not a photo\n" * 20)
    elif payload == "empty":
        path.write_bytes(b"")
    elif payload == "bomb":
        buf = io.BytesIO()
        Image.new("1", (20000, 20000)).save(buf, format="PNG", optimize=True)
        path.write_bytes(buf.getvalue())
    else:
        Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(path)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    alert = page.get_by_test_id("stAlertContentWarning").or_(page.get_by_test_id("stAlertContentError"))
    expect(alert.filter(has_text=message).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.get_by_role("button", name="Confirm this mood")).to_have_count(0)
    assert _events(db_url) == []
