"""Error responses: declared in OpenAPI, shaped like FastAPI's, free of tracebacks and secrets."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from miot_harness.api.runs import RETRY_AFTER_SECONDS, RunsBusy

log = logging.getLogger("miot_harness.api")

# Only the parts of a validation error a client needs; `input` and `ctx` can echo
# arbitrary request text back, so they are dropped.
ERROR_KEYS = ("type", "loc", "msg")
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNPARSABLE_BODY = "the body is not UTF-8 JSON"
TOO_DEEP = "the body's JSON is nested too deeply"
TOO_MANY_DIGITS = "a number in the body has too many digits"
NO_RUN_SLOT = (
    "no run slot: the waiting line is full or the wait for a slot ran out; "
    "retry after the seconds in Retry-After"
)


class ErrorDetail(BaseModel):
    """A refusal with a human reason (401, 404, 429)."""

    detail: str


class ValidationIssue(BaseModel):
    """One invalid part of a request: where (`loc`), what kind, and why."""

    type: str
    loc: list[str | int]
    msg: str


class ValidationFailure(BaseModel):
    """A 422: every invalid part of the request."""

    detail: list[ValidationIssue]


def _described(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


UNAUTHORIZED = {401: _described(ErrorDetail, "Missing or invalid API key")}
NOT_FOUND = {404: _described(ErrorDetail, "No such record for this tenant")}
THREAD_NOT_FOUND = {
    404: _described(
        ErrorDetail, "No such thread of this user (another user's thread gets the same)"
    )
}
INVALID = {
    422: _described(
        ValidationFailure, "Invalid request: the body is not UTF-8 JSON or a field is invalid"
    )
}
BUSY = {
    429: {
        **_described(
            ErrorDetail,
            "No run slot: the admission line is full or the wait for a slot ran out "
            "(nothing is stored); retry after the seconds in `Retry-After`",
        ),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    }
}
TOO_LARGE = {413: {"description": "The body exceeds the size cap"}}


def _plain_name(part: object) -> bool:
    return isinstance(part, str) and PLAIN_NAME.fullmatch(part) is not None


def _issue(error: dict[str, Any]) -> dict[str, Any]:
    issue = {key: error[key] for key in ERROR_KEYS if key in error}
    if error.get("type") == "json_invalid":
        # FastAPI reports the byte offset as part of `loc`; the field is the body itself.
        reason = (error.get("ctx") or {}).get("error")
        issue["loc"] = ["body"]
        issue["msg"] = f"the body is not valid JSON: {reason}" if reason else issue["msg"]
    elif error.get("type") == "extra_forbidden" and not _plain_name(error["loc"][-1]):
        # An unknown field is named in `loc` only when it is a plain name; any other text
        # sent as a field name is not reflected.
        issue["loc"] = list(error["loc"][:-1]) or ["body"]
        issue["msg"] = "a field with an unaccepted name: only the documented fields are accepted"
    else:
        issue["loc"] = list(issue.get("loc", ["body"]))
    return issue


async def _validation_failed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_issue(error) for error in exc.errors()]}, status_code=422)


def _unparsable_reason(cause: BaseException | None) -> str:
    """Why the JSON parser gave up, without any of the body's text."""
    if isinstance(cause, RecursionError):
        return TOO_DEEP
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return TOO_MANY_DIGITS
    return UNPARSABLE_BODY


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI answers a body its JSON parser raised on (not UTF-8, nested past the
        # recursion limit, an integer past Python's digit limit) with 400: the spec wants 422.
        issue = {
            "type": "body_unparsable",
            "loc": ["body"],
            "msg": _unparsable_reason(exc.__cause__),
        }
        return JSONResponse({"detail": [issue]}, status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _busy(_: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"detail": NO_RUN_SLOT},
        status_code=429,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RunsBusy, _busy)
    app.add_exception_handler(Exception, _unexpected)
