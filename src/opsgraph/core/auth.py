"""Domain types of access control: roles, users and API keys.

Roles are ordered (viewer < operator < admin); a route names the least role it needs.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from opsgraph.core.roles import Role

__all__ = ["USERNAME_RE", "ApiKey", "Role", "User"]

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class User(_Model):
    """A person who logs in; the password hash never leaves the store layer's callers."""

    id: int | None = None
    username: str
    role: Role = Role.VIEWER
    disabled: bool = False
    created_ts: float
    last_login_ts: float | None = None

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str) -> str:
        if not USERNAME_RE.match(value):
            raise ValueError(
                "must be 2-64 characters: letters, digits and _ . @ -, starting with a letter "
                "or digit"
            )
        return value


class ApiKey(_Model):
    """A machine credential: shown once when created, stored only as a hash, revocable."""

    id: int | None = None
    name: str = Field(min_length=1, max_length=200)
    prefix: str  # the first characters of the key, to tell keys apart in lists and logs
    role: Role
    user_id: int | None = None  # who created it
    created_ts: float
    expires_ts: float | None = None
    last_used_ts: float | None = None
    revoked_ts: float | None = None

    def usable_at(self, ts: float) -> bool:
        return self.revoked_ts is None and (self.expires_ts is None or ts < self.expires_ts)
