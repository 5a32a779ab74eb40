"""Access control: argon2 password hashes, JWT access and refresh tokens, hashed API keys,
roles, and login rate limiting."""

from opsgraph.auth.service import AuthService, Principal

__all__ = ["AuthService", "Principal"]
