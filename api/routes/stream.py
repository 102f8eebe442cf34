"""``/v1/stream``: live emotion reading over a WebSocket, with the Live page's own ``LiveProcessor``.

Protocol (messages are JSON text unless said otherwise):

1. Authenticate with an ``Authorization: Bearer <token>`` header, or (browsers cannot set headers on a
   WebSocket) with a first text message ``{"token": "<token>"}`` within 10 s. The server answers
   ``{"type": "ready", "model_version": ...}``. The token is never put in a URL, so it never lands in a log.
2. Send frames as binary messages, each one JPEG (or PNG) image, at most 2 MB and 1920×1920 pixels.
3. For each analysed frame the server sends ``{"type": "frame", "frame": n, "faces": [...], "smoothed": {...}
   or null, "mood": emotion or null, "confidence": p, "fps": analysed frames/s, "received": n, "dropped": n}``.
   Frames that arrive while one is being analysed replace each other: only the newest is analysed (a live
   view wants the present, not a queue), and ``dropped`` counts the others.
4. ``{"action": "use_mood"}`` stores the current smoothed reading (source ``live``; add ``"id": "<uuid>"`` to
   make a retry safe) and answers ``{"type": "reading", "reading": {...}, "recommendations": {...}}``, or
   ``{"type": "error", "detail": ...}`` when no face was seen in the last 2 seconds.

Close codes: 4400 bad input (not an image, unknown message), 4401 missing, unknown or revoked token (checked
again every :data:`RECHECK_S` seconds), 4429 too many streams for one user, 1009 a frame over 2 MB,
1011 a server error. Each close carries a reason a person can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from api.deps import Runtime
from api.routes.readings import client_event_id
from api.schemas import FaceOut, Probabilities, ReadingOut, RecommendationList
from awsome_core.errors import AuthError, AwsomeError
from awsome_core.services import readings, recommendations, tokens
from awsome_core.vision.live import LiveProcessor

logger = logging.getLogger(__name__)
router = APIRouter()

MAX_FRAME_BYTES = 2 * 1024 * 1024
MAX_SIDE = 1920
AUTH_TIMEOUT_S = 10.0
RECHECK_S = 30.0
MAX_STREAMS_PER_USER = 4
_streams: dict[int, int] = {}  # user id -> open streams in this process


class Closing(Exception):
    """End the stream with a WebSocket close code and a readable reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass
class _Slot:
    """The newest frame not analysed yet (older ones are dropped) and the pending actions."""

    frame: bytes | None = None
    received: int = 0
    dropped: int = 0
    actions: list[dict[str, Any]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    user_id: int | None = None
    try:
        token, user_id = await _authenticate(websocket, runtime)
        if _streams.get(user_id, 0) >= MAX_STREAMS_PER_USER:
            user_id = None
            raise Closing(4429, f"At most {MAX_STREAMS_PER_USER} streams at once per user.")
        _streams[user_id] = _streams.get(user_id, 0) + 1
        await websocket.send_json({"type": "ready", "model_version": runtime.live_classifier.model_version})
        await _serve(websocket, runtime, token, user_id)
    except Closing as e:
        with contextlib.suppress(Exception):
            await websocket.close(code=e.code, reason=e.reason)
    except WebSocketDisconnect:
        pass
    except Exception:
        logger.exception("stream failed")
        with contextlib.suppress(Exception):
            await websocket.close(code=1011, reason="Server error; it has been logged.")
    finally:
        if user_id is not None:
            _streams[user_id] = max(0, _streams.get(user_id, 1) - 1)


async def _authenticate(websocket: WebSocket, runtime: Runtime) -> tuple[str, int]:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        try:
            first = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
            token = str(json.loads(first).get("token", ""))
        except TimeoutError:
            raise Closing(4401, 'Send the token first: {"token": "..."}.') from None
        except (ValueError, AttributeError, KeyError):
            raise Closing(4401, 'The first message must be {"token": "..."}.') from None
    try:
        user_id = await run_in_threadpool(tokens.authenticate_token, sessions=runtime.sessions, token=token.strip())
    except AuthError as e:
        raise Closing(4401, str(e)) from None
    return token.strip(), user_id


async def _serve(websocket: WebSocket, runtime: Runtime, token: str, user_id: int) -> None:
    slot = _Slot()
    receiver = asyncio.create_task(_receive(websocket, slot))
    processor = LiveProcessor(runtime.live_classifier, cpu_share=1.0)
    checked_at, frame_no = time.monotonic(), 0
    try:
        while True:
            wake = asyncio.create_task(slot.wake.wait())
            done, _ = await asyncio.wait({wake, receiver}, timeout=RECHECK_S, return_when=asyncio.FIRST_COMPLETED)
            wake.cancel()
            if receiver in done:
                receiver.result()  # re-raises Closing / WebSocketDisconnect
                return
            slot.wake.clear()
            if time.monotonic() - checked_at >= RECHECK_S:
                try:
                    await run_in_threadpool(tokens.authenticate_token, sessions=runtime.sessions, token=token)
                except AuthError:
                    raise Closing(4401, "The token was revoked.") from None
                checked_at = time.monotonic()
            while slot.actions:
                await websocket.send_json(await _act(slot.actions.pop(0), runtime, user_id, processor))
            if slot.frame is not None:
                data, slot.frame = slot.frame, None
                frame_no += 1
                await websocket.send_json(await _analyse(data, processor, frame_no, slot))
    finally:
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver


async def _receive(websocket: WebSocket, slot: _Slot) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if (data := message.get("bytes")) is not None:
            if len(data) > MAX_FRAME_BYTES:
                raise Closing(1009, f"A frame may be at most {MAX_FRAME_BYTES // (1024 * 1024)} MB.")
            slot.received += 1
            if slot.frame is not None:
                slot.dropped += 1
            slot.frame = data
        else:
            try:
                action = json.loads(message.get("text") or "")
            except ValueError:
                raise Closing(4400, "Text messages must be JSON.") from None
            if not isinstance(action, dict) or action.get("action") != "use_mood":
                raise Closing(4400, 'Unknown message; the only action is {"action": "use_mood"}.')
            slot.actions.append(action)
        slot.wake.set()


def _decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or min(image.shape[:2]) < 1:
        raise Closing(4400, "Frames must be JPEG or PNG images.")
    if max(image.shape[:2]) > MAX_SIDE:
        raise Closing(4400, f"Frames may be at most {MAX_SIDE}×{MAX_SIDE} pixels.")
    return image


async def _analyse(data: bytes, processor: LiveProcessor, frame_no: int, slot: _Slot) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        processor.process(_decode(data))
        snapshot = processor.snapshot()
        reading = processor.latest.get(max_age=processor.max_age)
        faces = reading.faces if reading is not None else ()
        return {
            "type": "frame",
            "frame": frame_no,
            "faces": [FaceOut.of(i, f).model_dump() for i, f in enumerate(faces)],
            "smoothed": Probabilities.of(snapshot.probabilities).model_dump() if snapshot.probabilities else None,
            "mood": snapshot.top_emotion,
            "confidence": round(snapshot.confidence, 4),
            "fps": round(snapshot.fps, 1),
            "received": slot.received,
            "dropped": slot.dropped,
        }

    return await run_in_threadpool(work)


async def _act(action: dict[str, Any], runtime: Runtime, user_id: int, processor: LiveProcessor) -> dict[str, Any]:
    snapshot = processor.snapshot()
    if snapshot.probabilities is None:
        return {"type": "error", "detail": "No face seen in the last 2 seconds: look into the camera and try again."}
    raw_id = action.get("id")
    event_id = client_event_id(str(raw_id)[:255]) if raw_id is not None else str(uuid.uuid4())

    def store() -> dict[str, Any]:
        reading = readings.save_reading(
            sessions=runtime.sessions,
            user_id=user_id,
            probabilities=snapshot.probabilities or {},
            source="live",
            model_version=runtime.live_classifier.model_version,
            client_event_id=event_id,
            face_count=max(1, snapshot.face_count),
        )
        music = recommendations.recommend_for_reading(sessions=runtime.sessions, user_id=user_id, reading_id=reading.id)
        return {
            "type": "reading",
            "reading": ReadingOut.of(reading).model_dump(mode="json"),
            "recommendations": RecommendationList.of(music).model_dump(mode="json"),
        }

    try:
        return await run_in_threadpool(store)
    except AwsomeError as e:  # e.g. the database is down: say so, keep streaming
        return {"type": "error", "detail": str(e)}
