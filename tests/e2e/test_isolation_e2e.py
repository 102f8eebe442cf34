"""Two users at once, in two browser contexts, on one server and one MySQL database (issue #7, item 4).

Alice and Bob are signed in at the same time and take turns: both keep their photos, both upload a photo
(Alice's is the astronaut, Bob's the astronaut mirrored), correct the mood (Alice: angry, Bob: sad) and
confirm; with an 8-track catalog both get the same 8 tracks, Alice likes one and Bob dislikes another; Alice
takes a second reading. Then, on every page, neither ever sees the other's name, readings, feedback or photo:
the History page counts each one's own readings, a track the other liked or disliked shows no vote, the
Photo page of one never shows the other's picture, the CSV and JSON exports hold exactly one's own readings
(checked against the database), the recommendations and feedback rows belong to the user whose reading they
follow, and each kept photo lies in its owner's folder. The server log holds neither password nor cookie.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.conftest import PROJECT_ROOT
from tests.e2e.helpers import PAGES, expect_signed_in, open_page, register, wait_for_cookie, wait_idle
from tests.e2e.security import assert_no_injection, leaked_secrets

PASSWORDS = {"alice": "first-secret-pass-1", "bob": "second-secret-pass-22"}
NAMES = {"alice": "Alice Anders", "bob": "Bob Brown"}
LIKE, DISLIKE = "Like: more like this", "Not for me"  # the vote buttons' accessible names (ui/music_cards.py)
CATALOG_IDS = [f"isolationtrack{i:02d}".ljust(22, "q") for i in range(8)]


def _catalog(path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "artists", "valence", "energy"])
        for i, track_id in enumerate(CATALOG_IDS):
            writer.writerow(
                [track_id, f"Shared song {i}", f"Artist {i}", f"{0.1 + 0.1 * i:.2f}", f"{0.8 - 0.1 * i:.2f}"]
            )
    return path


def _photos(tmp_path: Path) -> dict[str, Path]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    photos = {"alice": tmp_path / "alice.jpg", "bob": tmp_path / "bob.jpg", "alice2": tmp_path / "alice2.jpg"}
    astronaut.save(photos["alice"], quality=92)
    ImageOps.mirror(astronaut).save(photos["bob"], quality=92)
    astronaut.crop((0, 0, 448, 448)).save(photos["alice2"], quality=90)
    return photos


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey-level difference of two pictures at 64×64 (a re-encoded copy: a few levels)."""
    pa, pb = (list(im.resize((64, 64)).getdata()) for im in (a, b))
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def _rows(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text(sql), params).all()]
    engine.dispose()
    return rows


def _upload_and_confirm(page: Any, photo: Path, correction: str | None) -> None:
    open_page(page, "Photo")
    expect(page.get_by_test_id("stImage")).to_have_count(0)  # nobody's picture before this user's upload
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    expect(page.get_by_text("1 face", exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    if correction:
        page.get_by_role("combobox", name="Did we get it right?").click()
        page.get_by_role("option", name=f"No, I feel {correction}").click()
        wait_idle(page)
    page.get_by_role("button", name="Confirm this mood").click()
    expect(page.get_by_text("Saved to your history.")).to_be_visible(timeout=60_000)
    wait_idle(page)


def _pick(page: Any, title: str) -> Any:
    """The card of the recommended track *title*: its title, artists and its like/dislike buttons."""
    return page.locator("div.card[data-key]").filter(has_text=title).last  # ui/static/music_cards.js


def _votes_shown(page: Any, title: str) -> tuple[bool, bool]:
    """Whether the like and the dislike of *title* are shown as chosen (pressed)."""
    row = _pick(page, title)
    return tuple(  # type: ignore[return-value]
        row.get_by_role("button", name=name).first.get_attribute("aria-pressed") == "true" for name in (LIKE, DISLIKE)
    )


def _vote(page: Any, title: str, button: str) -> None:
    _pick(page, title).get_by_role("button", name=button).first.click()
    wanted = (True, False) if button == LIKE else (False, True)
    expect(_pick(page, title).get_by_role("button", name=button).first).to_have_attribute(
        "aria-pressed", "true", timeout=30_000
    )
    wait_idle(page)
    assert _votes_shown(page, title) == wanted


def _export(page: Any, kind: str) -> str:
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=f"Download my readings ({kind})").click()
    return Path(download.value.path()).read_text()


def test_two_users_at_once_never_see_each_other(
    app_factory: Any, new_page: Any, mysql_database_url: str, tmp_path: Path
) -> None:
    app = app_factory(mysql_database_url, AWSOME_STARTER_CATALOG="0")  # the 8-track catalog of this test only
    subprocess.run(
        [str(Path(sys.executable).parent / "awsome"), "catalog", "import", str(_catalog(tmp_path / "catalog.csv"))],
        env=app.env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    photos = _photos(tmp_path)
    pages = {"alice": new_page(), "bob": new_page()}
    for user, page in pages.items():
        page.goto(app.url)
        register(page, user, NAMES[user], PASSWORDS[user])
    for page in pages.values():
        expect_signed_in(page)
        open_page(page, "Account")
        page.get_by_text("Keep the photos I analyse").click()
        expect(page.get_by_text("Saved.")).to_be_visible()

    _upload_and_confirm(pages["alice"], photos["alice"], "angry")
    _upload_and_confirm(pages["bob"], photos["bob"], "sad")
    liked, disliked = "Shared song 0", "Shared song 1"
    for page in pages.values():  # the tiny catalog: both users are shown both tracks
        expect(_pick(page, liked)).to_be_visible()
        expect(_pick(page, disliked)).to_be_visible()
    # Votes are per user. Each vote reruns the voter's page, which reads the votes afresh.
    _vote(pages["alice"], liked, LIKE)
    _vote(pages["bob"], disliked, DISLIKE)
    assert (_votes_shown(pages["bob"], liked), _votes_shown(pages["bob"], disliked)) == ((False, False), (False, True))
    _vote(pages["alice"], liked, LIKE)  # the same vote again: a fresh render after Bob's vote
    assert (_votes_shown(pages["alice"], liked), _votes_shown(pages["alice"], disliked)) == (
        (True, False),
        (False, False),
    )
    open_page(pages["alice"], "About")  # leaving the Photo page clears its upload
    _upload_and_confirm(pages["alice"], photos["alice2"], None)  # Alice: 2 readings, Bob: 1

    ids = dict(_rows(mysql_database_url, "SELECT username, id FROM users"))
    for user, page in pages.items():
        other = "bob" if user == "alice" else "alice"
        for title in PAGES:
            open_page(page, title)
            body = page.locator("body").inner_text()
            assert NAMES[other] not in body and not re.search(rf"(?i)\b{other}\b", body), (user, title)
            assert "Traceback" not in body
            if title == "Account":
                assert NAMES[user] in body and user in body
            if title == "History":
                readings = page.get_by_test_id("stMetric").filter(has_text="Readings").get_by_test_id("stMetricValue")
                expect(readings).to_have_text("2" if user == "alice" else "1")
                exported = {
                    "CSV": list(csv.DictReader(io.StringIO(_export(page, "CSV")))),
                    "JSON": json.loads(_export(page, "JSON")),
                }
                stored = _rows(
                    mysql_database_url,
                    "SELECT corrected_emotion FROM mood_events WHERE user_id = :u ORDER BY created_at, id",
                    u=ids[user],
                )
                for kind, rows in exported.items():
                    assert [r["corrected_emotion"] or None for r in rows] == [c for (c,) in stored], (user, kind)
            assert_no_injection(page)

    assert _rows(
        mysql_database_url,
        "SELECT u.username, t.title, f.value FROM feedback f JOIN users u ON u.id = f.user_id "
        "JOIN tracks t ON t.id = f.track_id ORDER BY u.username",
    ) == [("alice", liked, 1), ("bob", disliked, -1)]
    assert _rows(mysql_database_url, "SELECT corrected_emotion FROM mood_events WHERE user_id = :u", u=ids["bob"]) == [
        ("sad",)
    ]
    # Every recommendation follows a reading of the same user.
    assert _rows(
        mysql_database_url,
        "SELECT COUNT(*) FROM recommendations r JOIN mood_events e ON e.id = r.mood_event_id "
        "WHERE r.user_id <> e.user_id",
    ) == [(0,)]
    # Each kept photo (in the database, re-encoded) is its owner's and shows their picture, not the other's.
    assert _rows(
        mysql_database_url,
        "SELECT COUNT(*) FROM mood_event_photos p JOIN mood_events e ON e.id = p.mood_event_id "
        "WHERE p.user_id <> e.user_id",
    ) == [(0,)]
    for user, mine in (("alice", {photos["alice"], photos["alice2"]}), ("bob", {photos["bob"]})):
        stored = [
            Image.open(io.BytesIO(data)).convert("L")
            for (data,) in _rows(
                mysql_database_url, "SELECT data FROM mood_event_photos WHERE user_id = :u", u=ids[user]
            )
        ]
        assert len(stored) == len(mine)
        originals = [Image.open(m).convert("L") for m in mine]
        for picture in stored:
            assert min(_difference(picture, original) for original in originals) < 8, user

    secrets = {f"{u} password": p for u, p in PASSWORDS.items()}
    secrets |= {f"{u} cookie": wait_for_cookie(page) for u, page in pages.items()}
    assert leaked_secrets(app.log(), secrets, [p.read_bytes() for p in photos.values()]) == []
