"""The FastAPI application: :func:`create_app` wires settings, database, models, limits and routes.

Every path is under ``/v1``; OpenAPI at ``/openapi.json``, interactive docs at ``/docs``. Behind nginx or
the load balancer the API is served at ``/api/`` (the proxy strips that prefix; ``root_path`` tells the docs).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.deps import Runtime
from api.ratelimit import RateLimiter
from api.routes import analysis, music, readings, stream
from api.schemas import Problem, ReadingCreate, ReadingUpload
from awsome_core.config import Settings
from awsome_core.storage.db import make_engine, make_sessionmaker
from awsome_core.vision.classifier import get_classifier, serving_tta
from awsome_core.vision.threads import use_one_opencv_thread

logger = logging.getLogger(__name__)

#: Room for the multipart envelope and form fields around the largest photo.
BODY_OVERHEAD = 64 * 1024


class BodySizeLimit:
    """Refuse request bodies over *max_bytes* with 413, before they are read into memory or spooled to disk:
    by ``Content-Length`` at once, and by counting for chunked bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            response = problems.problem(413, f"The request is larger than {self.max_bytes // (1024 * 1024)} MB.")
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise problems.PayloadTooLarge(f"The request is larger than {self.max_bytes // (1024 * 1024)} MB.")
            return message

        await self.app(scope, counting_receive, send)


def build_runtime(settings: Settings) -> Runtime:
    url = settings.effective_database_url
    use_one_opencv_thread()  # each request's images on its own thread (awsome_core/vision/threads.py)
    classifier = get_classifier(str(settings.model_path), tta=None)
    return Runtime(
        settings=settings,
        sessions=make_sessionmaker(make_engine(url)),
        classifier=classifier,
        live_classifier=classifier.with_tta(serving_tta(classifier.card, "live")),
        limiter=RateLimiter(settings.api_analyses_per_minute),
    )


def create_app(settings: Settings | None = None, *, root_path: str = "") -> FastAPI:
    """The API over the app's own database and model (``Settings.load()`` when *settings* is None).

    The database must be migrated already (``awsome db upgrade``; ``awsome api`` does it outside production).
    """
    settings = settings or Settings.load()
    app = FastAPI(
        title="AWSome API",
        version="1",
        summary="Read the mood on a face, keep a history, get music for it.",
        description=(
            "Every route but `/v1/health` needs `Authorization: Bearer <token>` (a personal access token). "
            "Errors are `application/problem+json` (RFC 9457)."
        ),
        root_path=root_path,
    )
    app.state.runtime = build_runtime(settings)
    problems.install(app)
    for router in (analysis.router, readings.router, music.router, stream.router):
        app.include_router(router, prefix="/v1")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_mb * 1024 * 1024 + BODY_OVERHEAD)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the two bodies of ``POST /v1/readings`` (read by hand: JSON or multipart)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ReadingCreate, ReadingUpload, Problem):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    _document_problems(schema)
    if app.root_path:
        schema["servers"] = [{"url": app.root_path}]
    app.openapi_schema = schema
    return schema


#: Errors any operation may answer (problem+json): malformed or invalid input, a missing resource, the database away.
COMMON_ERRORS = {
    "400": "Malformed request (e.g. a broken multipart body)",
    "404": "Not found, or not yours",
    "422": "Invalid values; `errors` says which",
    "503": "The database is unavailable; retry after `Retry-After` seconds",
}


def _document_problems(schema: dict[str, Any]) -> None:
    """Every error response is ``application/problem+json`` with the ``Problem`` schema, as the handlers send."""
    problem_content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            errors = dict(COMMON_ERRORS)
            if operation.get("security"):
                errors["401"] = "Missing, unknown or revoked token"
            for status, description in errors.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                own_body = status == "503" and operation.get("operationId", "").startswith("health")  # HealthOut
                if status.isdigit() and int(status) >= 400 and not own_body:
                    response["content"] = problem_content
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
