"""The ``/v1/stream`` WebSocket of a real ``awsome api``: frames of the astronaut clip in, readings out."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from awsome_core.services import tokens
from tests.api.conftest import Api, astronaut_frame, jpeg


def _clip(n: int) -> list[bytes]:
    """*n* 640×480 JPEG frames of the astronaut, drifting a few pixels as a webcam image would."""
    frame = astronaut_frame()
    shifted = [np.roll(frame, shift=(i % 5) - 2, axis=1) for i in range(n)]
    return [jpeg(f, quality=80) for f in shifted]


def _token(api: Api, user: str) -> str:
    return tokens.create_token(sessions=api.sessions, user_id=api.users[user], name="stream").token


def _ws_url(api: Api) -> str:
    return api.url.replace("http://", "ws://") + "/v1/stream"


def _frames_until_happy(ws: ClientConnection, frames: list[bytes]) -> tuple[int, dict[str, object]]:
    for i, data in enumerate(frames, start=1):
        ws.send(data)
        message = json.loads(ws.recv(timeout=30))
        assert message["type"] == "frame"
        if message["mood"] == "happy":
            return i, message
    raise AssertionError(f"no happy mood within {len(frames)} frames")


def test_stream_reads_happy_within_20_frames_and_use_mood_stores_one_reading(api: Api) -> None:
    token = _token(api, "alice")
    with api.client(token=token) as c:
        before = len(c.get("/v1/readings", params={"source": "live", "limit": 200}).json()["items"])
    started = time.perf_counter()
    with connect(_ws_url(api), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        ready = json.loads(ws.recv(timeout=30))
        n, message = _frames_until_happy(ws, _clip(20))
        ws.send(json.dumps({"action": "use_mood", "id": "3f0d3c55-8f5e-4a8e-9d4a-0c3e1f2b7a10"}))
        stored = json.loads(ws.recv(timeout=30))
        ws.send(json.dumps({"action": "use_mood", "id": "3f0d3c55-8f5e-4a8e-9d4a-0c3e1f2b7a10"}))  # a retry
        again = json.loads(ws.recv(timeout=30))
    print(f"stream: happy after {n} frame(s), {time.perf_counter() - started:.2f} s from connect")
    assert ready["type"] == "ready" and ready["model_version"].startswith("fer-")
    assert n <= 20 and message["faces"] and message["faces"][0]["emotion"] == "happy"
    assert message["smoothed"]["happy"] > 0.5
    assert stored["type"] == "reading" and stored["reading"]["source"] == "live"
    assert stored["reading"]["emotion"] == "happy" and stored["recommendations"]["items"]
    assert again["reading"]["id"] == stored["reading"]["id"]
    with api.client(token=token) as c:
        after = c.get("/v1/readings", params={"source": "live", "limit": 200}).json()["items"]
    assert len(after) == before + 1


def test_stream_authenticates_by_first_message_for_browsers(api: Api) -> None:
    token = _token(api, "bob")
    with connect(_ws_url(api)) as ws:
        ws.send(json.dumps({"token": token}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        ws.send(json.dumps({"action": "use_mood"}))
        assert "No face" in json.loads(ws.recv(timeout=30))["detail"]


@pytest.mark.parametrize("first", ['{"token": "awsome_pat_unknown"}', "not json", '{"tok": 1}'])
def test_stream_refuses_a_bad_token_with_4401(api: Api, first: str) -> None:
    with connect(_ws_url(api)) as ws:
        ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (b"definitely not a jpeg", 4400),
        ('{"action": "dance"}', 4400),
        ("hello", 4400),
        (b"\xff" * (2 * 2**20 + 1), 1009),
    ],
)
def test_stream_closes_on_bad_input_with_a_reason(api: Api, message: bytes | str, code: int) -> None:
    token = _token(api, "bob")
    with connect(_ws_url(api), additional_headers={"Authorization": f"Bearer {token}"}, max_size=None) as ws:
        json.loads(ws.recv(timeout=30))
        ws.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, bool(closed.value.rcvd.reason)) == (code, True)


def test_stream_drops_frames_it_cannot_keep_up_with(api: Api) -> None:
    token = _token(api, "bob")
    big = jpeg(cv2.resize(astronaut_frame(), (1280, 960)), quality=95)
    with connect(_ws_url(api), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        json.loads(ws.recv(timeout=30))
        for _ in range(40):  # a burst, far faster than analysis
            ws.send(big)
        answers = []
        while not answers or answers[-1]["received"] < 40 or answers[-1]["frame"] + answers[-1]["dropped"] < 40:
            answers.append(json.loads(ws.recv(timeout=30)))
    last = answers[-1]
    print(f"stream burst: 40 sent, {len(answers)} analysed, {last['dropped']} dropped")
    # Every frame is either analysed (answered) or dropped, never queued; how many drop depends on the CPU.
    assert last["received"] == 40 and last["dropped"] == 40 - len(answers)
