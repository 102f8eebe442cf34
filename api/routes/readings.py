"""``/v1/readings``: store (from a photo or from probabilities), list, read, correct, delete; the photo."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import CallerDep, Id, RuntimeDep
from api.problems import UnsupportedMediaType
from api.routes.analysis import analyze_bytes, read_upload
from api.schemas import Deleted, Problem, ReadingCreate, ReadingList, ReadingOut, ReadingPatch, ReadingUpload, Source
from awsome_core.errors import InvalidInput, NoFaceFound
from awsome_core.services import readings
from awsome_core.vision.photo import NO_FACE_TIPS, mean_probabilities

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/readings", tags=["readings"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 404, 422, 503)}
KEY_NAMESPACE = uuid.UUID("5f1d3a52-4c1e-4f2b-9a55-61e0c3f0a7d1")

CREATE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ReadingCreate"}},
        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/ReadingUpload"}},
    },
}


def client_event_id(key: str | None) -> str | None:
    """The reading's idempotency id: the ``Idempotency-Key`` if it is a UUID, else a UUID derived from it."""
    if key is None:
        return None
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(KEY_NAMESPACE, key))


@router.post(
    "",
    status_code=201,
    response_model=ReadingOut,
    responses={**ERRORS, 413: {"model": Problem}, 415: {"model": Problem}, 429: {"model": Problem}},
    openapi_extra={"requestBody": CREATE_BODY},
)
async def create_reading(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255, description="retry-safe: same key, one reading"),
    ] = None,
) -> ReadingOut:
    """Store a reading: multipart with the photo in ``image`` (analysed here; optional ``face`` index or
    ``group``), or JSON with the probabilities of an earlier analysis. Answers the stored reading."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    event_id = client_event_id(idempotency_key)
    if content_type == "application/json":
        try:
            body = ReadingCreate.model_validate_json(await request.body())
        except ValidationError as e:
            raise RequestValidationError(e.errors(include_url=False, include_input=False)) from None
        probabilities, photo = body.probabilities.model_dump(), None
        source, face_count, corrected = body.source, body.face_count, body.corrected_emotion
    elif content_type == "multipart/form-data":
        upload = await _read_form(request)
        photo = await read_upload(upload.image, runtime)
        analysis = await analyze_bytes(photo, runtime, caller)
        if not analysis.faces:
            raise NoFaceFound(NO_FACE_TIPS)
        if upload.group:
            probabilities, face_count = mean_probabilities(analysis.faces), len(analysis.faces)
        else:
            index = upload.face or 0
            if index >= len(analysis.faces):
                raise InvalidInput(f"face must be below {len(analysis.faces)}: the photo has that many faces.")
            probabilities, face_count = dict(analysis.faces[index].probabilities), len(analysis.faces)
        source, corrected = "photo", upload.corrected_emotion  # type: ignore[assignment]
    else:
        raise UnsupportedMediaType("Send application/json (probabilities) or multipart/form-data (a photo).")
    reading = await run_in_threadpool(
        readings.save_reading,
        sessions=runtime.sessions,
        user_id=caller.user_id,
        probabilities=probabilities,
        source=source,
        model_version=runtime.classifier.model_version,
        client_event_id=event_id,
        face_count=face_count,
        corrected_emotion=corrected,
        photo=photo,
    )
    return ReadingOut.of(reading)


class _Form:
    def __init__(self, image: UploadFile, face: int | None, group: bool, corrected_emotion: str | None) -> None:
        self.image, self.face, self.group, self.corrected_emotion = image, face, group, corrected_emotion


async def _read_form(request: Request) -> _Form:
    form = await request.form(max_files=1, max_fields=8)
    image = form.get("image")
    if not isinstance(image, UploadFile):
        raise InvalidInput("Put the photo in a multipart file field named 'image'.")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        parsed = ReadingUpload.model_validate(
            {"image": b"", **{k: fields[k] for k in ("face", "corrected_emotion") if fields.get(k)}}
            | ({"group": fields["group"]} if "group" in fields else {})
        )
    except ValidationError as e:
        raise RequestValidationError(e.errors(include_url=False, include_input=False)) from None
    return _Form(image, parsed.face, parsed.group, parsed.corrected_emotion)


DATE: dict[str, Any] = {"max_length": 64, "json_schema_extra": {"format": "date-time"}}


def _timestamp(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or time (``Z`` or an offset; none means UTC), or :class:`InvalidInput`."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 time, e.g. 2026-12-01T08:00:00Z.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@router.get("", response_model=ReadingList, responses=ERRORS)
def list_readings(
    runtime: RuntimeDep,
    caller: CallerDep,
    since: Annotated[str | None, Query(description="from this time on (ISO 8601; UTC if no offset)", **DATE)] = None,
    until: Annotated[str | None, Query(description="before this time (ISO 8601)", **DATE)] = None,
    source: Annotated[list[Source] | None, Query(description="only these sources (repeat the parameter)")] = None,
    limit: Annotated[int, Query(ge=1, le=readings.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="`next` of the previous page")] = None,
) -> ReadingList:
    """The caller's readings, newest first, a page at a time (the History page's filters)."""
    page = readings.list_readings(
        sessions=runtime.sessions,
        user_id=caller.user_id,
        since=_timestamp("since", since),
        until=_timestamp("until", until),
        sources=source,
        limit=limit,
        cursor=cursor,
    )
    return ReadingList(items=[ReadingOut.of(r) for r in page.items], next=page.next)


@router.delete("", response_model=Deleted, responses=ERRORS)
def delete_all_readings(runtime: RuntimeDep, caller: CallerDep) -> Deleted:
    """Delete the caller's whole history: readings, photos, recommendations and likes."""
    n = readings.delete_history(sessions=runtime.sessions, user_id=caller.user_id, data_dir=runtime.settings.data_dir)
    return Deleted(deleted=n)


@router.get("/{reading_id}", response_model=ReadingOut, responses=ERRORS)
def get_reading(reading_id: Id, runtime: RuntimeDep, caller: CallerDep) -> ReadingOut:
    return ReadingOut.of(readings.get_reading(sessions=runtime.sessions, user_id=caller.user_id, reading_id=reading_id))


@router.patch("/{reading_id}", response_model=ReadingOut, responses=ERRORS)
def correct_reading(reading_id: Id, body: ReadingPatch, runtime: RuntimeDep, caller: CallerDep) -> ReadingOut:
    """Correct the emotion (``null`` removes the correction); History and the music follow it."""
    reading = readings.correct_reading(
        sessions=runtime.sessions, user_id=caller.user_id, reading_id=reading_id, emotion=body.corrected_emotion
    )
    return ReadingOut.of(reading)


@router.delete("/{reading_id}", status_code=204, responses=ERRORS)
def delete_reading(reading_id: Id, runtime: RuntimeDep, caller: CallerDep) -> Response:
    readings.delete_reading(
        sessions=runtime.sessions, user_id=caller.user_id, reading_id=reading_id, data_dir=runtime.settings.data_dir
    )
    return Response(status_code=204)


@router.get(
    "/{reading_id}/photo",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}, "description": "the kept photo (JPEG)"}},
)
def get_photo(reading_id: Id, runtime: RuntimeDep, caller: CallerDep) -> Response:
    """The photo kept with the reading (only for users who opted in to keeping photos)."""
    content_type, data = readings.get_reading_photo(
        sessions=runtime.sessions, user_id=caller.user_id, reading_id=reading_id
    )
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
