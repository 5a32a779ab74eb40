"""Secrets of access control: password hashing (argon2id), API keys (random, stored as a
SHA-256 hash: they are long and random, so a slow hash adds nothing), the JWT signing key."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

#: Every API key starts with this, so scanners and people recognise one.
KEY_PREFIX = "og_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: Checked against when the user does not exist, so a wrong name costs as long as a wrong
#: password and timing does not tell which it was.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def new_api_key() -> tuple[str, str, str]:
    """(key, prefix shown in lists, hash stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:11], hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def signing_key(configured: str | None, data_dir: Path) -> str:
    """The configured key, or one generated once and kept in data_dir (mode 0600). Replicas
    behind one load balancer must share it: set auth.secret_key (or its env variable)."""
    if configured:
        return configured
    path = data_dir / "auth-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
