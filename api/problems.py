"""Errors as RFC 9457 problem details (``application/problem+json``), never a traceback.

The library's :class:`~awsome_core.errors.AwsomeError` messages are written for users, so they become the
``detail``. Anything a client can send maps to a 4xx; a 5xx means the server (or its database) is at fault:
503 while the database is unreachable (with ``Retry-After``), 500 only for a bug, logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from awsome_core.errors import (
    AuthError,
    AwsomeError,
    InvalidImage,
    InvalidInput,
    ModelError,
    MusicProviderError,
    NoFaceFound,
    NotFound,
    RateLimited,
    StorageUnavailable,
)
from awsome_core.vision.image_io import NOT_A_PICTURE

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class PayloadTooLarge(AwsomeError):
    """The request body is larger than the server accepts."""


class UnsupportedMediaType(AwsomeError):
    """The request's content type is not one this operation reads."""


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def status_of(error: AwsomeError) -> int:
    """The HTTP status of a library error."""
    if isinstance(error, InvalidImage):
        return 415 if str(error) == NOT_A_PICTURE else 422
    table: list[tuple[type[AwsomeError], int]] = [
        (NotFound, 404),
        (AuthError, 401),
        (RateLimited, 429),
        (PayloadTooLarge, 413),
        (UnsupportedMediaType, 415),
        (InvalidInput, 422),
        (NoFaceFound, 422),
        (StorageUnavailable, 503),
        (ModelError, 503),
        (MusicProviderError, 503),
    ]
    return next((status for kind, status in table if isinstance(error, kind)), 400)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem response."""

    @app.exception_handler(AwsomeError)
    async def _library_error(request: Request, error: AwsomeError) -> JSONResponse:
        status = status_of(error)
        headers = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
        elif status == 503:
            headers["Retry-After"] = "5"
        elif status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="awsome"'
        return problem(status, str(error), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
            for e in error.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return problem(422, f"{where}: {first['msg']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "Error")
        headers = dict(error.headers or {})
        if error.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem(error.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error in %s %s", request.method, request.url.path)
        return problem(500, "Something went wrong on our side. It has been logged; please try again.")


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route offers for this path (FastAPI makes one route per method)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    methods.discard("HEAD")
    return sorted(methods)
