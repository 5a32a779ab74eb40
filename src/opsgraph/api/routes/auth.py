"""Accounts and credentials: register, login, refresh, logout, me; users and API keys (admin).

Login sets HTTP-only cookies (access on /, refresh on /auth) for the dashboard and also returns
the access token for scripts; API keys are shown once, when created.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import RuntimeDep
from opsgraph.api.routes.common import RowId
from opsgraph.api.security import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    AdminDep,
    PrincipalDep,
)
from opsgraph.auth.service import Tokens
from opsgraph.core.auth import USERNAME_RE, ApiKey, Role, User
from opsgraph.core.errors import AuthError
from opsgraph.runtime.root import Runtime

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewUser(Credentials):
    # The stored User's own rule, checked here so a bad name is a 422, not a 500.
    username: str = Field(pattern=USERNAME_RE.pattern)
    role: Role | None = None


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    disabled: bool | None = None


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.OPERATOR
    expires_ts: float | None = Field(default=None, allow_inf_nan=False)


def _set_cookies(response: Response, runtime: Runtime, tokens: Tokens) -> None:
    secure = runtime.settings.auth.cookie_secure
    now = time.time()
    response.set_cookie(
        ACCESS_COOKIE,
        tokens.access,
        max_age=int(tokens.access_expires - now),
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh,
        max_age=int(tokens.refresh_expires - now),
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/auth",
    )


def _session(user: User, tokens: Tokens) -> dict[str, Any]:
    return {
        "user": user.model_dump(mode="json"),
        "access_token": tokens.access,
        "token_type": "bearer",
        "expires_at": tokens.access_expires,
    }


@router.get("/config", summary="What the login page needs to know")
def auth_config(runtime: RuntimeDep) -> dict[str, bool]:
    cfg = runtime.settings.auth
    return {"enabled": cfg.enabled, "allow_signup": bool(cfg.allow_signup)}


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Create an account")
def register(body: NewUser, request: Request, runtime: RuntimeDep) -> User:
    """Sign-up as viewer (when allowed); an admin's request may choose any role."""
    from opsgraph.api.security import resolve

    try:
        by = resolve(request)
    except AuthError:
        by = None
    return runtime.auth.register(body.username, body.password, role=body.role, by=by)


@router.post("/login", summary="Log in: sets the session cookies")
def login(
    body: Credentials, request: Request, response: Response, runtime: RuntimeDep
) -> dict[str, Any]:
    client = request.client.host if request.client else "unknown"
    user, tokens = runtime.auth.login(body.username, body.password, client=client)
    _set_cookies(response, runtime, tokens)
    return _session(user, tokens)


@router.post("/refresh", summary="New tokens for the refresh cookie (rotated)")
def refresh(request: Request, response: Response, runtime: RuntimeDep) -> dict[str, Any]:
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise AuthError("no refresh token: log in")
    user, tokens = runtime.auth.refresh(token)
    _set_cookies(response, runtime, tokens)
    return _session(user, tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the session")
def logout(request: Request, runtime: RuntimeDep) -> Response:
    runtime.auth.logout(request.cookies.get(REFRESH_COOKIE))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/auth")
    return response


@router.get("/me", summary="Who is calling")
def me(principal: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    out: dict[str, Any] = {"name": principal.name, "role": principal.role, "kind": principal.kind}
    if principal.kind == "user" and principal.id is not None:
        out["user"] = runtime.store.get_user(principal.id).model_dump(mode="json")
    return out


@router.get("/users", summary="Every user (admin)")
def list_users(_: AdminDep, runtime: RuntimeDep) -> list[User]:
    return runtime.store.list_users()


@router.patch("/users/{user_id}", summary="Change a user's role or disable them (admin)")
def change_user(user_id: RowId, body: UserChange, admin: AdminDep, runtime: RuntimeDep) -> User:
    return runtime.auth.change_user(user_id, role=body.role, disabled=body.disabled, by=admin)


@router.get("/keys", summary="API keys, without their secrets (admin)")
def list_keys(_: AdminDep, runtime: RuntimeDep) -> list[ApiKey]:
    return runtime.store.list_api_keys()


@router.post("/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key (admin)")
def create_key(body: NewKey, admin: AdminDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The key itself is in this answer only; opsgraph keeps just its hash."""
    key, saved = runtime.auth.create_key(body.name, body.role, by=admin, expires_ts=body.expires_ts)
    return {"key": key, **saved.model_dump(mode="json")}


@router.delete("/keys/{key_id}", summary="Revoke an API key (admin)")
def revoke_key(key_id: RowId, admin: AdminDep, runtime: RuntimeDep) -> ApiKey:
    return runtime.auth.revoke_key(key_id, by=admin)
