"""Request hygiene, outermost: a request id and the console's security headers on every
answer, 431 for oversized headers, HEAD answered by any GET route, and a JSON 500 that names the
request id the log carries.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("opsgraph.api")

REQUEST_ID = "x-request-id"
#: Sent with every answer but the API's own docs pages (whose Swagger UI and ReDoc load from
#: their CDN). The console loads only its own scripts and styles, talks only to its own origin
#: (HTTP and WebSocket), and must not be framed.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; "
        b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_DOCS_PATHS = ("/docs", "/redoc")
#: A client's own request id is kept when it looks like one; anything else is replaced.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    state: dict[str, Any] = scope.setdefault("state", {})
    rid = state.get("request_id")
    return rid if isinstance(rid, str) else "-"


class RequestHygiene:
    """Pure ASGI (it must see every byte of the answer, streamed or not)."""

    def __init__(self, app: ASGIApp, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        given = dict(headers).get(REQUEST_ID.encode(), b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        size = sum(len(k) + len(v) + 4 for k, v in headers)
        if size > self.max_header_bytes:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1009})
                return
            response = JSONResponse(
                status_code=431,
                content={
                    "detail": f"request headers of {size} bytes are larger than "
                    f"api.max_header_bytes = {self.max_header_bytes}"
                },
                headers={REQUEST_ID: rid},
            )
            await response(scope, receive, send)
            return
        head = scope["type"] == "http" and scope.get("method") == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        docs = str(scope.get("path", "")).startswith(_DOCS_PATHS)
        extra = [(REQUEST_ID.encode(), rid.encode()), *(() if docs else SECURITY_HEADERS)]

        async def reply(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}  # HEAD: the GET's headers, no body
            await send(message)

        await self.app(scope, receive, reply)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Any exception nothing else answered: logged with the request id, answered in JSON."""
    rid = request_id_of(request.scope)
    log.error("request %s %s %s failed", rid, request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={
            "detail": f"internal error: the server log has the details under request id {rid}",
            "request_id": rid,
        },
        headers={REQUEST_ID: rid},
    )
