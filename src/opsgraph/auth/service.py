"""Access control over the store: users log in (JWT access + refresh tokens, refresh rotated
and revocable), machines present API keys; both resolve to a `Principal` with a role.

Errors say only "invalid credentials" or "not allowed": nothing about which part was wrong.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt

from opsgraph.auth.ratelimit import Limiter, LoginLimiter, RedisLoginLimiter
from opsgraph.auth.secrets import (
    DUMMY_HASH,
    KEY_PREFIX,
    MAX_PASSWORD,
    MIN_PASSWORD,
    hash_api_key,
    hash_password,
    new_api_key,
    signing_key,
    verify_password,
)
from opsgraph.auth.settings import AuthSettings
from opsgraph.core.auth import ApiKey, Role, User
from opsgraph.core.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)
from opsgraph.store import Store

ALGORITHM = "HS256"
#: How long one answer of `still_valid` serves the sockets of a principal.
VALID_FOR_S = 0.25


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, an API key, or everyone when auth is off."""

    name: str
    role: Role
    kind: Literal["user", "api_key", "anonymous"]
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    refresh: str
    access_expires: float
    refresh_expires: float


class AuthService:
    def __init__(
        self,
        store: Store,
        settings: AuthSettings,
        *,
        data_dir: Path,
        redis_url: str | None = None,
    ) -> None:
        self.store = store
        self.cfg = settings
        self.enabled = settings.enabled
        self._key = signing_key(settings.secret_key, data_dir)
        cfg = self.cfg
        # Replicas sharing Redis (events.redis_url) share the login counts too.
        self.limiter: Limiter = (
            RedisLoginLimiter(
                redis_url,
                max_failures=cfg.login_max_failures,
                window_s=cfg.login_window_s,
                max_backoff_s=cfg.login_max_backoff_s,
            )
            if redis_url is not None
            else LoginLimiter(
                max_failures=cfg.login_max_failures,
                window_s=cfg.login_window_s,
                max_backoff_s=cfg.login_max_backoff_s,
            )
        )
        self._validity: dict[tuple[str, int], tuple[float, bool]] = {}

    # -- users -------------------------------------------------------------------------------
    def ensure_admin(self) -> str | None:
        """Create 'admin' when there is no user at all; returns a generated password to show
        once (None when one was configured or users exist)."""
        if self.store.count_users():
            return None
        password = self.cfg.admin_password or secrets.token_urlsafe(12)
        try:
            self.store.add_user(
                User(username="admin", role=Role.ADMIN, created_ts=time.time()),
                hash_password(password),
            )
        except ConflictError:  # another replica created it meanwhile
            return None
        return None if self.cfg.admin_password else password

    def register(
        self, username: str, password: str, *, role: Role | None = None, by: Principal | None
    ) -> User:
        """Sign up (when allowed) or, for an admin, create a user with any role. The first
        user of an empty store becomes admin."""
        _check_password(password)
        first = self.store.count_users() == 0
        if by is not None and by.role is Role.ADMIN:
            chosen = role or Role.VIEWER
        elif first:
            chosen = Role.ADMIN
        elif not self.cfg.allow_signup:
            raise ForbiddenError("sign-up is turned off; ask an admin for an account")
        elif role not in (None, Role.VIEWER):
            raise ForbiddenError("only an admin can create users with that role")
        else:
            chosen = Role.VIEWER
        user = self.store.add_user(
            User(username=username, role=chosen, created_ts=time.time()), hash_password(password)
        )
        self.store.audit(
            by.name if by else username, "auth.user.create", username, inputs={"role": chosen}
        )
        return user

    def login(self, username: str, password: str, *, client: str) -> tuple[User, Tokens]:
        wait = self.limiter.retry_after(username, client)
        if wait > 0:
            raise RateLimitedError("too many failed logins; try again later", retry_after=wait)
        found = self.store.user_with_hash(username)
        # Verify against a dummy hash for unknown users: the answer takes as long either way.
        ok = verify_password(found[1] if found else DUMMY_HASH, password) and found is not None
        if not ok or found is None or found[0].disabled:
            self.limiter.failed(username, client)
            raise AuthError("invalid username or password")
        self.limiter.succeeded(username, client)
        user = self.store.update_user(found[0].id or 0, last_login_ts=time.time())
        return user, self._issue(user)

    def refresh(self, token: str) -> tuple[User, Tokens]:
        """A new pair for a valid refresh token; the old one is revoked (rotation), so a stolen
        token that is used twice stops working."""
        claims = self._decode(token, "refresh")
        if not self.store.revoke_session(str(claims["jti"]), time.time()):
            raise AuthError("refresh token is no longer valid")
        user = self.store.get_user(int(claims["sub"]))
        if user.disabled:
            raise AuthError("refresh token is no longer valid")
        return user, self._issue(user)

    def logout(self, refresh_token: str | None) -> None:
        if not refresh_token:
            return
        try:
            claims = self._decode(refresh_token, "refresh")
        except AuthError:
            return
        self.store.revoke_session(str(claims["jti"]), time.time())

    def _issue(self, user: User) -> Tokens:
        now = time.time()
        access_exp = now + self.cfg.access_ttl_s
        refresh_exp = now + self.cfg.refresh_ttl_s
        base = {"sub": str(user.id), "name": user.username, "iat": int(now)}
        access = jwt.encode(
            base | {"typ": "access", "role": user.role.value, "exp": int(access_exp)},
            self._key,
            ALGORITHM,
        )
        jti = secrets.token_hex(16)
        refresh = jwt.encode(
            base | {"typ": "refresh", "jti": jti, "exp": int(refresh_exp)}, self._key, ALGORITHM
        )
        self.store.add_session(jti, user.id or 0, now, refresh_exp)
        return Tokens(access, refresh, access_exp, refresh_exp)

    def _decode(self, token: str, kind: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.PyJWTError as exc:
            raise AuthError("invalid or expired token") from exc
        if claims.get("typ") != kind:
            raise AuthError("invalid or expired token")
        return claims

    # -- credentials on requests -------------------------------------------------------------
    def principal(self, token: str) -> Principal:
        """The caller behind a bearer token: an API key (og_...) or an access JWT, judged by
        the present state of the store, not by what held when it was issued: a disabled user's
        tokens and keys stop, a demoted user's tokens and keys act with the new role."""
        if token.startswith(KEY_PREFIX):
            key = self.store.api_key_by_hash(hash_api_key(token))
            now = time.time()
            if key is None or not key.usable_at(now):
                raise AuthError("invalid credentials")
            role = key.role
            if key.user_id is not None:
                owner = self._current_user(key.user_id)
                if owner is None:
                    raise AuthError("invalid credentials")
                role = role if owner.role.allows(role) else owner.role
            if key.last_used_ts is None or now - key.last_used_ts > 60:
                self.store.touch_api_key(key.id or 0, now)  # at most once a minute per key
            return Principal(f"key:{key.name}", role, "api_key", key.id)
        claims = self._decode(token, "access")
        user = self._current_user(int(claims["sub"]))
        if user is None:
            raise AuthError("invalid or expired token")
        return Principal(user.username, user.role, "user", user.id)

    def _current_user(self, user_id: int) -> User | None:
        """The user as stored now, or None when they are gone or disabled."""
        try:
            user = self.store.get_user(user_id)
        except NotFoundError:
            return None
        return None if user.disabled else user

    def still_valid(self, principal: Principal) -> bool:
        """Whether a long-lived connection (a WebSocket) opened by `principal` may go on: its
        key is not revoked or expired, and its user (or the key's creator) is not disabled.
        One answer serves every socket of the same principal for VALID_FOR_S, so hundreds of
        sockets on one key cost a couple of store reads a second."""
        if principal.kind == "anonymous" or principal.id is None:
            return True
        now = time.monotonic()
        slot = (principal.kind, principal.id)
        cached = self._validity.get(slot)
        if cached is not None and now - cached[0] < VALID_FOR_S:
            return cached[1]
        if principal.kind == "user":
            ok = self._current_user(principal.id) is not None
        else:
            key = self.store.get_api_key(principal.id)
            ok = (
                key is not None
                and key.usable_at(time.time())
                and (key.user_id is None or self._current_user(key.user_id) is not None)
            )
        self._validity[slot] = (now, ok)
        return ok

    # -- API keys ----------------------------------------------------------------------------
    def change_user(
        self, user_id: int, *, role: Role | None, disabled: bool | None, by: Principal
    ) -> User:
        """Change a user's role or disable them (audited)."""
        user = self.store.update_user(user_id, role=role, disabled=disabled)
        changes: dict[str, Any] = {"role": role, "disabled": disabled}
        self.store.audit(
            by.name,
            "auth.user.update",
            f"user:{user_id}",
            inputs={
                k: (v.value if isinstance(v, Role) else v)
                for k, v in changes.items()
                if v is not None
            },
        )
        return user

    def create_key(
        self, name: str, role: Role, *, by: Principal, expires_ts: float | None = None
    ) -> tuple[str, ApiKey]:
        if not by.role.allows(role):
            raise ForbiddenError("a key cannot have a higher role than its creator")
        if expires_ts is not None and expires_ts <= time.time():
            raise InvalidInputError("expires_ts", "must be in the future")
        key, prefix, digest = new_api_key()
        saved = self.store.add_api_key(
            ApiKey(
                name=name,
                prefix=prefix,
                role=role,
                user_id=by.id if by.kind == "user" else None,
                created_ts=time.time(),
                expires_ts=expires_ts,
            ),
            digest,
        )
        self.store.audit(
            by.name, "auth.key.create", f"key:{saved.id}", inputs={"name": name, "role": role}
        )
        return key, saved

    def revoke_key(self, key_id: int, *, by: Principal) -> ApiKey:
        key = self.store.revoke_api_key(key_id, time.time())
        self.store.audit(by.name, "auth.key.revoke", f"key:{key_id}", inputs={"name": key.name})
        return key


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInputError(
            "password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
        )
