"""``GET /v1/health`` (no auth) and ``POST /v1/analyze`` (a photo's faces and emotions; stores nothing)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette import datastructures

from api.deps import Caller, CallerDep, Runtime, RuntimeDep
from api.problems import PayloadTooLarge
from api.schemas import AnalysisOut, FaceOut, HealthOut, Problem
from awsome_core.errors import StorageUnavailable
from awsome_core.storage.db import session_scope
from awsome_core.vision.photo import PhotoAnalysis, analyze_photo, most_face_like_first

logger = logging.getLogger(__name__)
router = APIRouter(tags=["analysis"])
MAX_FACES = 10
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 413, 415, 422, 429)}


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(runtime: RuntimeDep) -> JSONResponse:
    """Liveness of the API, its database and its model (no token needed)."""
    database = "ok"
    try:
        with session_scope(runtime.sessions) as session:
            session.execute(text("SELECT 1"))
    except StorageUnavailable:
        database = "unavailable"
    body = HealthOut(
        status="ok" if database == "ok" else "degraded",
        database=database,  # type: ignore[arg-type]
        model_version=runtime.classifier.model_version,
    )
    return JSONResponse(body.model_dump(), status_code=200 if database == "ok" else 503)


async def read_upload(upload: datastructures.UploadFile, runtime: Runtime) -> bytes:
    """The uploaded file's bytes, refused (413) beyond the upload limit without reading further."""
    data = await upload.read(runtime.max_upload_bytes + 1)
    if len(data) > runtime.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than the {runtime.settings.max_upload_mb} MB limit.")
    return data


async def analyze_bytes(data: bytes, runtime: Runtime, caller: Caller) -> PhotoAnalysis:
    """Rate-limited analysis of an uploaded photo, off the event loop; faces most face-like first (the order
    and the default the Photo page uses: a doubtful box is never ``index`` 0)."""
    runtime.limiter.take(caller.key)
    result = await run_in_threadpool(
        analyze_photo, data, classifier=runtime.classifier, max_bytes=runtime.max_upload_bytes, max_faces=MAX_FACES
    )
    return replace(result, faces=most_face_like_first(result.faces))


@router.post("/analyze", response_model=AnalysisOut, responses=ERRORS)
async def analyze(
    runtime: RuntimeDep,
    caller: CallerDep,
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP, up to the upload limit")],
) -> AnalysisOut:
    """Faces (most face-like first) with boxes, the 7 probabilities and the top emotion. Stores nothing."""
    result = await analyze_bytes(await read_upload(image, runtime), runtime, caller)
    height, width = result.image_bgr.shape[:2]
    return AnalysisOut(
        model_version=runtime.classifier.model_version,
        width=width,
        height=height,
        faces=[FaceOut.of(i, face) for i, face in enumerate(result.faces)],
    )
