"""The one exception hierarchy of opsgraph.

Every error a user can cause names the field and the reason; the API maps these to HTTP codes.
"""

from __future__ import annotations


class OpsgraphError(Exception):
    """Base of every error opsgraph raises on purpose."""

    http_status = 500


class InvalidInputError(OpsgraphError):
    """Input that breaks a rule: names the field (a dotted path) and why.

    Maps to HTTP 422 and CLI exit code 2.
    """

    http_status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFoundError(OpsgraphError):
    """A resource, anomaly, incident or other object that does not exist (HTTP 404)."""

    http_status = 404

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class ConflictError(OpsgraphError):
    """A request that clashes with the current state (HTTP 409)."""

    http_status = 409


class ConfigError(OpsgraphError):
    """A configuration file or variable that cannot be used (CLI exit code 2)."""

    http_status = 500


class StoreError(OpsgraphError):
    """The database refused or failed an operation; the transaction was rolled back."""

    http_status = 503


class UnavailableError(OpsgraphError):
    """Something the request needs is not ready yet, such as a model still training (HTTP 503)."""

    http_status = 503


class MissingExtraError(OpsgraphError):
    """A feature whose optional dependencies are not installed: names the extra that brings
    them (HTTP 501, CLI exit code 2)."""

    http_status = 501

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        super().__init__(
            f"the optional {extra!r} extra is needed for {feature} ({missing} is not "
            f"installed): pip install 'opsgraph[{extra}]'"
        )
        self.feature = feature
        self.extra = extra
        self.missing = missing


class AuthError(OpsgraphError):
    """No credential, or one that is wrong, expired or revoked (HTTP 401). The message never
    says which."""

    http_status = 401


class ForbiddenError(OpsgraphError):
    """A valid caller whose role does not allow the request (HTTP 403)."""

    http_status = 403


class RateLimitedError(OpsgraphError):
    """Too many attempts; `retry_after` seconds until the next is allowed (HTTP 429)."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
