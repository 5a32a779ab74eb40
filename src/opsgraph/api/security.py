"""Who may call what: every request resolves to a Principal (API key, access token in a
header or cookie), and the route's method sets the least role it needs.

Reads (GET) need viewer, changes need operator, user and key administration needs admin.
Health, login and (by default) /metrics are public. Errors leak nothing: 401 says only that a
valid credential is needed, 403 only which role the route needs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from opsgraph.auth import Principal
from opsgraph.core.auth import Role
from opsgraph.core.errors import AuthError, ForbiddenError
from opsgraph.runtime.root import Runtime

ACCESS_COOKIE = "opsgraph_access"
REFRESH_COOKIE = "opsgraph_refresh"

#: Paths anyone may call.
PUBLIC_PATHS = frozenset(
    {"/health", "/auth/login", "/auth/register", "/auth/refresh", "/auth/logout", "/auth/config"}
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS = Principal("anonymous", Role.ADMIN, "anonymous")


def credential(conn: HTTPConnection) -> str | None:
    """The bearer token, X-API-Key header or access cookie of a request, in that order."""
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = conn.headers.get("x-api-key")
    if key:
        return key.strip()
    return conn.cookies.get(ACCESS_COOKIE)


def resolve(conn: HTTPConnection) -> Principal | None:
    """The caller, or None when the request carries no credential."""
    runtime: Runtime = conn.app.state.runtime
    if not runtime.auth.enabled:
        return ANONYMOUS
    token = credential(conn)
    return None if token is None else runtime.auth.principal(token)


#: The API's own description and its pages (FastAPI serves them outside the routes' checks).
DOCS_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class DocsGuard:
    """Asks for a viewer's credential on the docs paths when `auth.public_docs` is false."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in DOCS_PATHS:
            conn = HTTPConnection(scope)
            runtime: Runtime = conn.app.state.runtime
            if not runtime.settings.auth.public_docs:
                try:
                    principal = resolve(conn)
                except AuthError:
                    principal = None
                if principal is None:
                    response = JSONResponse(
                        status_code=401,
                        content={"detail": "authentication required: log in or send an API key"},
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def authorize(conn: HTTPConnection) -> None:
    """The app-wide check (WebSockets check themselves on connect)."""
    if conn.scope["type"] != "http":
        return
    runtime: Runtime = conn.app.state.runtime
    path = conn.url.path
    if path in PUBLIC_PATHS or (path == "/metrics" and runtime.settings.auth.public_metrics):
        return
    if path in DOCS_PATHS:
        return  # DocsGuard asks for a credential there when auth.public_docs is false
    principal = resolve(conn)
    if principal is None:
        raise AuthError("authentication required: log in or send an API key")
    needed = Role.VIEWER if conn.scope.get("method", "GET") in READ_METHODS else Role.OPERATOR
    check(principal, needed)
    conn.state.principal = principal


def check(principal: Principal, needed: Role) -> None:
    if not principal.role.allows(needed):
        raise ForbiddenError(f"this needs the {needed.value} role")


def current(conn: HTTPConnection) -> Principal:
    principal: Principal | None = getattr(conn.state, "principal", None)
    if principal is None:
        principal = resolve(conn)
    if principal is None:
        raise AuthError("authentication required: log in or send an API key")
    return principal


def require(role: Role) -> object:
    """A route dependency: the caller must hold at least `role`."""

    def dependency(principal: Annotated[Principal, Depends(current)]) -> Principal:
        check(principal, role)
        return principal

    return Depends(dependency)


PrincipalDep = Annotated[Principal, Depends(current)]
AdminDep = Annotated[Principal, require(Role.ADMIN)]
