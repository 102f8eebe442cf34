"""The Photo page in a real Chromium with a fake webcam (the astronaut), against one app server for the module.

* upload → snapshot → upload: the most recent picture is read each time, the page says which, the old
  picture's message goes;
* the issue's group picture (two astronauts, the rocket, the cameraman): three numbered boxes, none on
  the rocket, Face 1 (a real, happy face) preselected; Confirm stores it and shows music; a changed answer
  is stored (the database and History say so) and the music is ranked again;
* a file over the app's limit gets a message in the page; bad files get a clear message and store nothing.

Screenshots of each state at 1366×900 and 390×844 go to artifacts/screens/ (``photo-*.png``).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e import webrtc
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer, start_app
from tests.e2e.helpers import expect_signed_in, open_page, register, wait_idle
from tests.e2e.test_screens_e2e import _screens

PASSWORD = "correct-horse-battery"
UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'


def _astronaut_jpeg(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


def _group_jpeg(path: Path) -> Path:
    """The issue's group picture: two astronaut heads, the rocket (no face) and the cameraman."""
    from scripts.bench_detection import composite

    parts = [("astronaut-head", 0, 0, 300), ("astronaut-head", 0, 300, 300), ("rocket", 300, 0, 640)]
    sample = composite("group", (1200, 600), [*parts, ("camera", 940, 0, 256)])
    cv2.imwrite(str(path), sample.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def _query(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text(sql), params).all()]
    engine.dispose()
    return rows


def _events(db_url: str, username: str) -> list[tuple[str, str, str | None]]:
    return _query(  # type: ignore[return-value]
        db_url,
        "SELECT e.source, e.top_emotion, e.corrected_emotion FROM mood_events e JOIN users u ON u.id = e.user_id "
        "WHERE u.username = :u ORDER BY e.id",
        u=username,
    )


def _count(db_url: str, table_and_where: str) -> int:
    return int(_query(db_url, f"SELECT COUNT(*) FROM {table_and_where}")[0][0])


def _wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def photo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, str]]:
    """One app server (starter music catalog, SQLite) for every test here."""
    tmp = tmp_path_factory.mktemp("photo-e2e")
    db_url = f"sqlite:///{tmp / 'e2e.db'}"
    server = start_app(tmp, database_url=db_url)
    yield server, db_url
    server.stop()


@pytest.fixture(scope="module")
def camera_browser(playwright_sync: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium whose webcam plays the astronaut (no WebRTC here: st.camera_input stays in the browser)."""
    clip = webrtc.make_clip(tmp_path_factory.mktemp("camera") / "astronaut.y4m", seconds=1.0)
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    browser = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()


@pytest.fixture
def photo_page(
    photo_app: tuple[AppServer, str], camera_browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Any]]:
    """A fresh browser context, a new user signed up, on the Photo page."""
    server, _ = photo_app
    contexts: list[Any] = []

    def factory(username: str) -> Any:
        ctx = camera_browser.new_context(viewport={"width": 1366, "height": 900})
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(server.url)
        register(page, username, username.title(), PASSWORD)
        expect_signed_in(page)
        open_page(page, "Photo")
        return page

    yield factory
    for ctx in contexts:
        ctx.close()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        import sys

        sys.stderr.write(f"\n----- {server.url} log -----\n{server.log()[-6000:]}\n")


def _marked_share(page: Any, base_url: str, original: Path, region: tuple[int, int, int, int]) -> float:
    """The share of pixels in *region* (x0, y0, x1, y1 of *original*) of the picture the page shows that
    differ clearly from *original* there: what the app drew (a box, a label, a number)."""
    src = page.get_by_test_id("stImage").locator("img").first.get_attribute("src")
    response = page.request.get(src if src.startswith("http") else base_url + src)
    shown = cv2.imdecode(np.frombuffer(response.body(), np.uint8), cv2.IMREAD_COLOR)
    picture = cv2.imread(str(original))
    scale = shown.shape[1] / picture.shape[1]
    expected = cv2.resize(picture, (shown.shape[1], shown.shape[0]), interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = (round(v * scale) for v in region)
    diff = np.abs(shown[y0:y1, x0:x1].astype(int) - expected[y0:y1, x0:x1].astype(int)).max(axis=2)
    return float((diff > 90).mean())


def _reading(page: Any, kind: str) -> Any:
    """The line that says which picture the page reads."""
    return page.get_by_text(re.compile(rf"^Reading your {kind}"))


def test_the_latest_picture_wins_numbered_faces_and_corrections_after_confirm(
    photo_app: tuple[AppServer, str], photo_page: Callable[[str], Any], tmp_path: Path
) -> None:
    server, db_url = photo_app
    page = photo_page("photouser")
    no_face = tmp_path / "wall.png"
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(no_face)
    page.locator(UPLOADER).set_input_files(str(no_face))
    expect(page.get_by_text("could not find a face")).to_be_visible(timeout=60_000)
    expect(_reading(page, "upload, wall.png")).to_be_visible()

    # A snapshot after the upload: the snapshot is read, the upload's message goes.
    page.get_by_role("tab", name="Take a snapshot").click()
    take = page.get_by_test_id("stCameraInputButton")
    expect(take).to_be_enabled(timeout=30_000)  # the fake webcam is playing
    page.wait_for_timeout(500)
    take.click()
    expect(_reading(page, "snapshot: the newer")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("could not find a face")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Whose mood?")).to_have_count(0)  # one face: nothing to choose
    expect(page.get_by_role("combobox", name="Did we get it right?")).to_have_value("Yes, happy")
    wait_idle(page)
    _screens(page, "photo-snapshot")

    # An upload after the snapshot: the upload is read.
    page.get_by_role("tab", name="Upload a photo").click()
    group = _group_jpeg(tmp_path / "group.jpg")
    page.locator(UPLOADER).set_input_files(str(group))
    expect(_reading(page, "upload, group.jpg: the newer")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("3 faces, numbered as in the list")).to_be_visible(timeout=60_000)
    whose = page.get_by_role("combobox", name="Whose mood?")
    expect(whose).to_have_value(re.compile(r"^Face 1: happy"))
    whose.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert [o.split(":")[0] for o in options] == ["Face 1", "Face 2", "Face 3", "The group (mean of all faces)"]
    assert [o for o in options if o.startswith("Face") and "happy" in o][:2] == options[:2]  # the astronauts
    assert _marked_share(page, server.url, group, (300, 0, 940, 540)) < 0.001  # nothing drawn on the rocket
    wait_idle(page)
    _screens(page, "photo-group")

    # Clearing the newer picture (the upload... here the snapshot, older) leaves the other one read.
    page.get_by_role("tab", name="Take a snapshot").click()
    page.get_by_role("button", name="Clear photo").click()
    expect(page.get_by_text("Reading your upload, group.jpg.", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 faces, numbered as in the list")).to_be_visible()
    page.get_by_role("tab", name="Upload a photo").click()

    # Confirm, then correct: the stored reading, the music and History follow.
    assert _events(db_url, "photouser") == []
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Stored as happy.")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm this mood")).to_have_count(0)
    players = page.locator("iframe[src*='/embed/track/']")  # in the music cards' shadow root: a locator finds them

    def embeds() -> list[str]:
        return list(players.evaluate_all("fs => fs.map(f => f.src)"))

    _wait_until(lambda: len(embeds()) >= 5)
    happy_tracks = embeds()
    assert _events(db_url, "photouser") == [("photo", "happy", None)]
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    page.get_by_role("button", name="Like: more like this").first.click()  # like the first pick: stored as feedback
    _wait_until(lambda: _count(db_url, "feedback WHERE value = 1") == 1)

    answer = page.get_by_role("combobox", name="Did we get it right?")
    answer.click()
    options = page.get_by_role("option").all_inner_texts()
    assert options[0] == "Yes, happy" and "No, I feel happy" not in options and len(options) == 7, options
    page.get_by_role("option", name="No, I feel sad").click()
    expect(page.get_by_text("Stored as sad, your correction.")).to_be_visible(timeout=30_000)
    _wait_until(lambda: _events(db_url, "photouser") == [("photo", "happy", "sad")])
    _wait_until(lambda: len(embeds()) >= 5 and embeds() != happy_tracks)
    wait_idle(page)
    _screens(page, "photo-corrected")

    open_page(page, "History")
    page.get_by_text("Correct a reading").click()
    expect(page.get_by_role("combobox", name="Reading")).to_have_value(re.compile(r"we read happy, you said sad"))
    assert page.dialogs == []


def test_a_file_over_the_limit_gets_a_message_in_the_page(
    photo_app: tuple[AppServer, str], photo_page: Callable[[str], Any], tmp_path: Path
) -> None:
    _, db_url = photo_app
    page = photo_page("bigfile")
    page.locator(UPLOADER).set_input_files(str(_astronaut_jpeg(tmp_path / "me.jpg")))
    expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
    big = tmp_path / "big.jpg"  # 12.5 MB: over the 10 MB limit, under Streamlit's own cap
    big.write_bytes((tmp_path / "me.jpg").read_bytes() + b"\0" * 12_500_000)
    page.locator(UPLOADER).set_input_files(str(big))
    error = page.get_by_test_id("stAlertContentError")
    expect(error.filter(has_text="photos can be up to 10 MB")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stImage")).to_have_count(0)  # the previous picture and its reading are gone
    expect(page.get_by_role("button", name="Confirm this mood")).to_have_count(0)
    wait_idle(page)
    _screens(page, "photo-too-large")
    assert _events(db_url, "bigfile") == []
    page.get_by_test_id("stFileChipDeleteBtn").first.locator("button").click()  # cleared: no picture, no message
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text(re.compile("^Reading your"))).to_have_count(0)


@pytest.mark.parametrize(
    "name, payload, message",
    [
        ("truncated.jpg", "truncated", "damaged or incomplete"),
        ("notes.jpg", "text", "not a picture"),
        ("empty.png", "empty", "empty"),
        ("bomb.png", "bomb", "20000×20000"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_store_nothing(
    photo_app: tuple[AppServer, str],
    photo_page: Callable[[str], Any],
    tmp_path: Path,
    name: str,
    payload: str,
    message: str,
) -> None:
    _, db_url = photo_app
    username = f"bad{payload}"
    page = photo_page(username)
    path = tmp_path / name
    if payload == "truncated":
        full = _astronaut_jpeg(tmp_path / "full.jpg").read_bytes()
        path.write_bytes(full[: len(full) // 3])
    elif payload == "text":
        path.write_text("these are my notes, not a photo\n" * 20)
    elif payload == "empty":
        path.write_bytes(b"")
    else:
        buf = io.BytesIO()
        Image.new("1", (20000, 20000)).save(buf, format="PNG", optimize=True)
        path.write_bytes(buf.getvalue())
    page.locator(UPLOADER).set_input_files(str(path))
    alert = page.get_by_test_id("stAlertContentWarning").or_(page.get_by_test_id("stAlertContentError"))
    expect(alert.filter(has_text=message).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.get_by_role("button", name="Confirm this mood")).to_have_count(0)
    assert _events(db_url, username) == []
