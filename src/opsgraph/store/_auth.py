"""The access-control half of `Store`: users with password hashes, API keys by hash, and
refresh-token sessions.

Hashing happens in `opsgraph.auth`; the store only keeps what it is given.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from opsgraph.core.auth import ApiKey, Role, User
from opsgraph.core.errors import ConflictError, InvalidInputError, NotFoundError, StoreError
from opsgraph.store._base import StoreBase
from opsgraph.store.tables import ApiKeyRow, AuthSessionRow, UserRow


class AuthStore(StoreBase):
    """Users, API keys, refresh sessions."""

    # -- users ---------------------------------------------------------------------------------

    def count_users(self) -> int:
        with self._tx() as s:
            return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)

    def add_user(self, user: User, password_hash: str) -> User:
        if user.id is not None:
            raise InvalidInputError("user.id", "must be empty for a new user")
        taken = ConflictError(f"user {user.username!r} already exists (names ignore case)")
        try:
            with self._tx(write=True) as s:
                # User names are ASCII (USERNAME_RE), so lower() is the whole of case-folding.
                same = func.lower(UserRow.username) == user.username.lower()
                if s.scalars(select(UserRow.id).where(same)).first():
                    raise taken
                row = UserRow(
                    username=user.username,
                    password_hash=password_hash,
                    role=user.role.value,
                    disabled=user.disabled,
                    created_ts=user.created_ts,
                    last_login_ts=None,
                )
                s.add(row)
                s.flush()
                return _user(row)
        except StoreError as exc:  # two registrations of one name at the same moment
            if isinstance(exc.__cause__, IntegrityError):
                raise taken from exc
            raise

    def user_with_hash(self, username: str) -> tuple[User, str] | None:
        """The user of a name, whatever its case, with the password hash."""
        with self._tx() as s:
            same = func.lower(UserRow.username) == username.lower()
            row = s.scalars(select(UserRow).where(same).order_by(UserRow.id)).first()
            return None if row is None else (_user(row), row.password_hash)

    def get_user(self, user_id: int) -> User:
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFoundError("user", user_id)
            return _user(row)

    def list_users(self) -> list[User]:
        with self._tx() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.id))]

    def update_user(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        last_login_ts: float | None = None,
    ) -> User:
        with self._tx(write=True) as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFoundError("user", user_id)
            if role is not None:
                row.role = role.value
            if disabled is not None:
                row.disabled = disabled
            if password_hash is not None:
                row.password_hash = password_hash
            if last_login_ts is not None:
                row.last_login_ts = last_login_ts
            s.flush()
            return _user(row)

    # -- API keys ------------------------------------------------------------------------------

    def add_api_key(self, key: ApiKey, key_hash: str) -> ApiKey:
        if key.id is not None:
            raise InvalidInputError("key.id", "must be empty for a new key")
        with self._tx(write=True) as s:
            row = ApiKeyRow(
                name=key.name,
                prefix=key.prefix,
                key_hash=key_hash,
                role=key.role.value,
                user_id=key.user_id,
                created_ts=key.created_ts,
                expires_ts=key.expires_ts,
                last_used_ts=None,
                revoked_ts=None,
            )
            s.add(row)
            s.flush()
            return _key(row)

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        with self._tx() as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).first()
            return None if row is None else _key(row)

    def get_api_key(self, key_id: int) -> ApiKey | None:
        with self._tx() as s:
            row = s.get(ApiKeyRow, key_id)
            return None if row is None else _key(row)

    def touch_api_key(self, key_id: int, ts: float) -> None:
        with self._tx(write=True) as s:
            s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_ts=ts))

    def list_api_keys(self) -> list[ApiKey]:
        with self._tx() as s:
            return [_key(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]

    def revoke_api_key(self, key_id: int, ts: float) -> ApiKey:
        with self._tx(write=True) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError("API key", key_id)
            if row.revoked_ts is None:
                row.revoked_ts = ts
            s.flush()
            return _key(row)

    # -- refresh sessions ----------------------------------------------------------------------

    def add_session(self, jti: str, user_id: int, created_ts: float, expires_ts: float) -> None:
        with self._tx(write=True) as s:
            s.add(
                AuthSessionRow(
                    jti=jti,
                    user_id=user_id,
                    created_ts=created_ts,
                    expires_ts=expires_ts,
                    revoked_ts=None,
                )
            )

    def revoke_session(self, jti: str, ts: float) -> bool:
        """Revoke a refresh session; False when it was unknown or already revoked."""
        with self._tx(write=True) as s:
            result = s.execute(
                update(AuthSessionRow)
                .where(AuthSessionRow.jti == jti, AuthSessionRow.revoked_ts.is_(None))
                .values(revoked_ts=ts)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        disabled=row.disabled,
        created_ts=row.created_ts,
        last_login_ts=row.last_login_ts,
    )


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        role=Role(row.role),
        user_id=row.user_id,
        created_ts=row.created_ts,
        expires_ts=row.expires_ts,
        last_used_ts=row.last_used_ts,
        revoked_ts=row.revoked_ts,
    )
