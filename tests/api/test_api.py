"""Every REST endpoint of a real ``awsome api`` process, on SQLite and MariaDB, as a client sees it."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from awsome_core.emotions import EMOTIONS
from awsome_core.history.queries import load_dashboard
from awsome_core.services import account, readings
from tests.api.conftest import RATE_LIMIT, Api, jpeg

PROBLEM = "application/problem+json"
HAPPY = {"angry": 0.01, "disgust": 0.01, "fear": 0.01, "happy": 0.9, "sad": 0.03, "surprise": 0.02, "neutral": 0.02}


def _probs(top: str) -> dict[str, float]:
    return {e: (0.94 if e == top else 0.01) for e in EMOTIONS}


def test_health_needs_no_token_and_names_the_model(api: Api) -> None:
    with api.client() as c:
        r = c.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok" and r.json()["model_version"].startswith("fer-")


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer awsome_pat_" + "x" * 43, "Basic YWxpY2U6cHc="])
def test_a_missing_or_unknown_token_is_401_problem(api: Api, header: str | None) -> None:
    with api.client() as c:
        r = c.get("/v1/readings", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["status"] == 401


def test_analyze_finds_the_happy_astronaut_and_stores_nothing(api: Api, astronaut_jpeg: bytes) -> None:
    with api.client("alice") as c:
        before = c.get("/v1/readings").json()["items"]
        r = c.post("/v1/analyze", files={"image": ("a.jpg", astronaut_jpeg, "image/jpeg")})
        after = c.get("/v1/readings").json()["items"]
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["width"] == 640 and body["height"] == 480
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    assert face["emotion"] == "happy" and face["confidence"] > 0.8
    assert abs(sum(face["probabilities"].values()) - 1) < 1e-3
    assert 150 < face["box"]["x"] + face["box"]["w"] / 2 < 500
    assert before == after


def test_faces_are_listed_most_face_like_first_as_the_photo_page_numbers_them(api: Api) -> None:
    """The issue #15 group picture: index 0, the default face of a stored reading, is a confident face."""
    import cv2

    from awsome_core.vision.photo import CONFIDENT_SCORE
    from scripts.bench_detection import composite

    parts = [("astronaut-head", 0, 0, 300), ("astronaut-head", 0, 300, 300), ("rocket", 300, 0, 640)]
    sample = composite("group", (1200, 600), [*parts, ("camera", 940, 0, 256)])
    group = cv2.imencode(".jpg", sample.image)[1].tobytes()
    with api.client("alice") as c:
        faces = c.post("/v1/analyze", files={"image": ("g.jpg", group, "image/jpeg")}).json()["faces"]
    boxes = [f["box"] for f in faces]
    likeness = [(b["score"] >= CONFIDENT_SCORE, b["score"] * b["w"] * b["h"]) for b in boxes]
    assert len(faces) >= 2 and likeness == sorted(likeness, reverse=True), faces
    assert [f["index"] for f in faces] == list(range(len(faces)))
    assert faces[0]["box"]["score"] >= CONFIDENT_SCORE and faces[0]["emotion"] == "happy"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 422),
        (b"not a picture at all", 415),
        (b"GIF89a" + b"\0" * 50, 415),
        (jpeg(np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8))[:3000], 422),  # truncated
    ],
)
def test_bad_images_get_a_clear_4xx(api: Api, data: bytes, status: int) -> None:
    with api.client("alice") as c:
        r = c.post("/v1/analyze", files={"image": ("x.jpg", data, "image/jpeg")})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM and r.json()["detail"]


def test_an_upload_over_the_limit_is_413_before_it_is_read(api: Api) -> None:
    big = jpeg(np.random.default_rng(0).integers(0, 255, (1800, 1800, 3), dtype=np.uint8), quality=100)
    assert len(big) > 2 * 1024 * 1024  # the test server's limit is 2 MB
    with api.client("alice") as c:
        r = c.post("/v1/analyze", files={"image": ("big.jpg", big, "image/jpeg")})
        wrong_field = c.post("/v1/analyze", files={"photo": ("a.jpg", b"x", "image/jpeg")})
        not_multipart = c.post("/v1/analyze", content=b"raw", headers={"content-type": "image/jpeg"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert wrong_field.status_code == 422 and "image" in wrong_field.json()["detail"]
    assert not_multipart.status_code == 422


def test_a_photo_reading_is_idempotent_on_its_key(api: Api, astronaut_jpeg: bytes) -> None:
    key = str(uuid.uuid4())
    with api.client("alice") as c:
        first = c.post(
            "/v1/readings", files={"image": ("a.jpg", astronaut_jpeg, "image/jpeg")}, headers={"Idempotency-Key": key}
        )
        again = c.post(
            "/v1/readings", files={"image": ("a.jpg", astronaut_jpeg, "image/jpeg")}, headers={"Idempotency-Key": key}
        )
        other = c.post("/v1/readings", files={"image": ("a.jpg", astronaut_jpeg, "image/jpeg")})
    assert first.status_code == 201, first.text
    assert first.json()["emotion"] == "happy" and first.json()["source"] == "photo"
    assert again.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]


def test_a_reading_from_probabilities_and_its_validation(api: Api) -> None:
    with api.client("alice") as c:
        ok = c.post("/v1/readings", json={"probabilities": HAPPY, "source": "live", "face_count": 2})
        bad_sum = c.post("/v1/readings", json={"probabilities": {**HAPPY, "happy": 0.5}})
        missing = c.post("/v1/readings", json={"probabilities": {"happy": 1.0}})
        extra = c.post("/v1/readings", json={"probabilities": HAPPY, "mood": "x"})
        not_json = c.post("/v1/readings", content=b"{", headers={"content-type": "application/json"})
        text = c.post("/v1/readings", content=b"hi", headers={"content-type": "text/plain"})
        no_face = c.post("/v1/readings", files={"image": ("g.png", _png_without_face(), "image/png")})
    assert ok.status_code == 201 and ok.json()["source"] == "live" and ok.json()["face_count"] == 2
    assert [r.status_code for r in (bad_sum, missing, extra, not_json)] == [422] * 4
    assert "sum" in bad_sum.json()["detail"]
    assert text.status_code == 415
    assert no_face.status_code == 422 and "face" in no_face.json()["detail"]


def _png_without_face() -> bytes:
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    return cv2.imencode(".png", cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR))[1].tobytes()


def test_readings_page_newest_first_with_cursors_and_filters(api: Api) -> None:
    with api.client("alice") as c:
        c.delete("/v1/readings")
        made = [c.post("/v1/readings", json={"probabilities": _probs(e)}).json()["id"] for e in EMOTIONS[:5]]
        c.post("/v1/readings", json={"probabilities": HAPPY, "source": "live"})
        seen, cursor = [], None
        while True:
            page = c.get(
                "/v1/readings", params={"limit": 2, "source": "photo", **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200
            seen += [item["id"] for item in page.json()["items"]]
            cursor = page.json()["next"]
            if cursor is None:
                break
        future = c.get("/v1/readings", params={"since": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
        bad_cursor = c.get("/v1/readings", params={"cursor": "bm90IGEgY3Vyc29y"})
        too_many = c.get("/v1/readings", params={"limit": 1000})
    assert seen == made[::-1]
    assert future.json() == {"items": [], "next": None}
    assert bad_cursor.status_code == 422 and too_many.status_code == 422


def test_correct_a_reading_and_the_music_follows(api: Api) -> None:
    with api.client("alice") as c:
        reading = c.post("/v1/readings", json={"probabilities": HAPPY}).json()
        fixed = c.patch(f"/v1/readings/{reading['id']}", json={"corrected_emotion": "sad"})
        music = c.get(f"/v1/readings/{reading['id']}/recommendations", params={"count": 5})
        undone = c.patch(f"/v1/readings/{reading['id']}", json={"corrected_emotion": None})
        unknown = c.patch(f"/v1/readings/{reading['id']}", json={"corrected_emotion": "bored"})
    assert fixed.status_code == 200
    assert fixed.json()["emotion"] == "sad" and fixed.json()["top_emotion"] == "happy"
    assert music.status_code == 200
    assert music.json()["emotion"] == "sad" and music.json()["strategy"] == "lift"
    assert 1 <= len(music.json()["items"]) <= 5
    assert all(t["open_url"].startswith("https://open.spotify.com/") for t in music.json()["items"])
    assert undone.json()["emotion"] == "happy" and undone.json()["corrected_emotion"] is None
    assert unknown.status_code == 422


def test_recommendations_by_mood_and_feedback(api: Api) -> None:
    with api.client("alice") as c:
        music = c.get("/v1/recommendations", params={"emotion": "happy", "strategy": "energize", "count": 3})
        track = music.json()["items"][0]
        like = c.post("/v1/feedback", json={"track_id": track["track_id"], "value": 1})
        linked = c.post(
            "/v1/feedback",
            json={"track_id": track["track_id"], "value": -1, "recommendation_id": track["recommendation_id"]},
        )
        undo = c.post("/v1/feedback", json={"track_id": track["track_id"], "value": 0})
        bad = c.post("/v1/feedback", json={"track_id": track["track_id"], "value": 2})
        gone = c.post("/v1/feedback", json={"track_id": 2**31 - 1, "value": 1})
        bad_emotion = c.get("/v1/recommendations", params={"emotion": "bored"})
    assert music.status_code == 200 and music.json()["reading_id"] is None and music.json()["strategy"] == "energize"
    assert [like.json()["value"], linked.json()["value"], undo.json()["value"]] == [1, -1, 0]
    assert bad.status_code == 422 and gone.status_code == 404 and bad_emotion.status_code == 422


def test_export_csv_and_json_hold_the_readings(api: Api) -> None:
    with api.client("bob") as c:
        c.delete("/v1/readings")
        c.post("/v1/readings", json={"probabilities": HAPPY})
        as_csv = c.get("/v1/export", params={"format": "csv"})
        as_json = c.get("/v1/export", params={"format": "json"})
        bad = c.get("/v1/export", params={"format": "xml"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert (
        as_csv.headers["content-type"].startswith("text/csv") and len(rows) == 1 and rows[0]["top_emotion"] == "happy"
    )
    assert len(json.loads(as_json.text)) == 1
    assert bad.status_code == 422


def test_delete_one_reading_then_all(api: Api) -> None:
    with api.client("bob") as c:
        ids = [c.post("/v1/readings", json={"probabilities": HAPPY}).json()["id"] for _ in range(3)]
        one = c.delete(f"/v1/readings/{ids[0]}")
        again = c.delete(f"/v1/readings/{ids[0]}")
        left = [r["id"] for r in c.get("/v1/readings").json()["items"]]
        everything = c.delete("/v1/readings")
        after = c.get("/v1/readings").json()["items"]
    assert one.status_code == 204 and again.status_code == 404
    assert ids[0] not in left and set(ids[1:]) <= set(left)
    assert everything.json()["deleted"] >= 2 and after == []


def test_one_users_token_never_reaches_another_users_data(api: Api, astronaut_jpeg: bytes) -> None:
    account.set_store_images(sessions=api.sessions, user_id=api.users["alice"], enabled=True)
    with api.client("alice") as alice, api.client("bob") as bob:
        mine = alice.post("/v1/readings", files={"image": ("a.jpg", astronaut_jpeg, "image/jpeg")}).json()
        rid = mine["id"]
        rec = alice.get(f"/v1/readings/{rid}/recommendations").json()["items"][0]
        attempts = {
            "get": bob.get(f"/v1/readings/{rid}"),
            "patch": bob.patch(f"/v1/readings/{rid}", json={"corrected_emotion": "sad"}),
            "photo": bob.get(f"/v1/readings/{rid}/photo"),
            "recommendations": bob.get(f"/v1/readings/{rid}/recommendations"),
            "feedback": bob.post(
                "/v1/feedback",
                json={"track_id": rec["track_id"], "value": 1, "recommendation_id": rec["recommendation_id"]},
            ),
            "delete": bob.delete(f"/v1/readings/{rid}"),
        }
        bob_ids = [r["id"] for r in bob.get("/v1/readings", params={"limit": 200}).json()["items"]]
        bob_export = bob.get("/v1/export", params={"format": "json"}).text
        bob.delete("/v1/readings")  # bob's whole history: alice's stays
        still = alice.get(f"/v1/readings/{rid}")
        photo = alice.get(f"/v1/readings/{rid}/photo")
    assert {k: r.status_code for k, r in attempts.items()} == dict.fromkeys(attempts, 404)
    assert rid not in bob_ids and len(json.loads(bob_export)) == len(bob_ids)
    assert still.status_code == 200 and still.json()["corrected_emotion"] is None and still.json()["has_photo"]
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(photo.content, np.uint8), cv2.IMREAD_COLOR).shape[1] <= 1024


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    with api.client("alice") as c:
        mine = c.get("/v1/tokens").json()
        current = max(mine, key=lambda t: t["id"])
        other = api.client("bob")
        stranger = other.delete(f"/v1/tokens/{current['id']}")
        revoked = c.delete(f"/v1/tokens/{current['id']}")
        after = c.get("/v1/readings")
        other.close()
    assert stranger.status_code == 404
    assert revoked.status_code == 204 and after.status_code == 401


def test_analyses_are_rate_limited_per_token_with_retry_after(api: Api) -> None:
    with api.client("bob") as c, api.client("bob") as fresh:
        statuses = [
            c.post("/v1/analyze", files={"image": ("x.png", _png_without_face(), "image/png")}).status_code
            for _ in range(RATE_LIMIT + 2)
        ]
        limited = c.post("/v1/analyze", files={"image": ("x.png", _png_without_face(), "image/png")})
        other_token = fresh.post("/v1/analyze", files={"image": ("x.png", _png_without_face(), "image/png")})
    assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT and 429 in statuses[RATE_LIMIT:]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert other_token.status_code == 200


def test_api_and_app_share_one_history(api: Api) -> None:
    """A reading made through the API is in the History page's data; one stored by the app is in the API's."""
    with api.client("bob") as c:
        via_api = c.post("/v1/readings", json={"probabilities": _probs("surprise")}).json()
        via_app = readings.save_reading(
            sessions=api.sessions,
            user_id=api.users["bob"],
            probabilities=_probs("fear"),
            source="photo",
            model_version="m",
            client_event_id=str(uuid.uuid4()),
        )
        listed = [r["id"] for r in c.get("/v1/readings", params={"limit": 200}).json()["items"]]
    with api.sessions() as session:
        dash = load_dashboard(session=session, user_id=api.users["bob"], since=None, until=None)
    assert via_app.id in listed
    assert via_api["id"] in {int(i) for i in dash.frame.event_id}
    assert EMOTIONS[int(dash.frame.emotion[list(dash.frame.event_id).index(via_api["id"])])] == "surprise"


def test_unknown_paths_and_methods_are_problems_not_500s(api: Api) -> None:
    with api.client("alice") as c:
        missing = c.get("/v1/nothing")
        method = c.put("/v1/readings")
        huge_id = c.get(f"/v1/readings/{2**63}")
        zero = c.get("/v1/readings/0")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert method.status_code == 405
    assert huge_id.status_code == 422 and zero.status_code == 422
