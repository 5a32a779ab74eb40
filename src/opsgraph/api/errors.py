"""Error responses of the API: every 4xx names the field and the reason, in JSON.

Also the request-body size limit, enforced before a body is parsed.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsgraph.core.errors import AuthError, InvalidInputError, OpsgraphError, RateLimitedError
from opsgraph.core.extras import missing_extra


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: What every 4xx of ours looks like (the 422 of a bad field included), as the OpenAPI
#: document declares it in place of FastAPI's own validation-error shape.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, naming the field."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
}


#: The errors any operation may answer, with when.
_COMMON_ERRORS = {
    "401": "no valid credential",
    "403": "the credential's role is too low",
    "422": "a field breaks a rule (the message names it)",
    "429": "too many attempts: wait for Retry-After",
    "431": "request headers larger than api.max_header_bytes",
    "500": "a server error, named by its request id",
}


def _declare_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    errors = dict(_COMMON_ERRORS)
    if "{" in path:
        errors["404"] = "no such object"
    if method in ("post", "put", "patch", "delete"):
        errors["409"] = "conflicts with the present state (the message says which)"
    if method in ("post", "put", "patch"):
        errors["400"] = "the body is not what the content type says (malformed JSON, say)"
        errors["413"] = "the body is larger than api.max_body_bytes"
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    responses = operation.setdefault("responses", {})
    for code, why in errors.items():
        entry = responses.setdefault(code, {"description": why})
        entry.setdefault("content", content)


def document_errors(app: FastAPI) -> None:
    """Make /openapi.json describe the error bodies the API really sends."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["HTTPValidationError"] = ERROR_SCHEMA
            components.pop("ValidationError", None)
            for path, item in schema.get("paths", {}).items():
                for method, operation in item.items():
                    _declare_errors(path, method, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        if len(errors) > 10:
            summary += f"; and {len(errors) - 10} more"
        return JSONResponse(
            status_code=422, content={"detail": f"invalid request: {summary}", "errors": errors}
        )

    @app.exception_handler(ModuleNotFoundError)
    async def _missing_extra(request: Request, exc: ModuleNotFoundError) -> JSONResponse:
        # An optional package a feature needs: 501 naming the extra. Any other missing
        # module is a bug and stays a 500.
        missing = missing_extra(exc, f"{request.method} {request.url.path}")
        if missing is None:
            raise exc
        return JSONResponse(status_code=missing.http_status, content={"detail": str(missing)})

    @app.exception_handler(OpsgraphError)
    async def _ours(_: Request, exc: OpsgraphError) -> JSONResponse:
        body: dict[str, Any] = {"detail": str(exc)}
        headers: dict[str, str] = {}
        if isinstance(exc, InvalidInputError):
            body["errors"] = [{"field": exc.field, "message": exc.reason, "type": "invalid"}]
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return JSONResponse(status_code=exc.http_status, content=body, headers=headers)


class BodySizeLimit:
    """Refuses request bodies larger than max_bytes with 413, declared or streamed.

    A streamed body is cut off where it passes the limit: the app is told the client left
    (ASGI http.disconnect), whatever it answers or raises about the half body is dropped, and
    the client gets the 413 instead.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's answer to a body it never got whole
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            status_code=413,
            content={"detail": f"request body larger than {self.max_bytes} bytes"},
        )
        await response(scope, receive, send)
