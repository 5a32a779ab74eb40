"""The `auth` section of the configuration: logins, tokens, sign-up and rate limits."""

from __future__ import annotations

from pydantic import Field

from opsgraph.core.settings import Section


class AuthSettings(Section):
    """Access control (see docs/auth.md)."""

    enabled: bool = Field(
        default=True, description="Require a credential on every route but health and login."
    )
    secret_key: str | None = Field(
        default=None,
        description="JWT signing key; default: generated once into data_dir/auth-secret. "
        "Replicas must share one.",
    )
    access_ttl_s: float = Field(default=900.0, ge=30, description="Access token lifetime.")
    refresh_ttl_s: float = Field(default=7 * 86_400.0, ge=60, description="Refresh token lifetime.")
    allow_signup: bool | None = Field(
        default=None,
        description="Anyone may register (as viewer); the first user is admin. Unset: on in "
        "`opsgraph demo`, off in `opsgraph serve`.",
    )
    admin_password: str | None = Field(
        default=None,
        description="Password of the 'admin' user created when there is no user at all; "
        "default: a random one, printed once at start.",
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies over HTTPS only (set behind TLS)."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per name or address within the window."
    )
    login_window_s: float = Field(default=300.0, gt=0, description="Login rate-limit window.")
    login_max_backoff_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Past login_max_failures, an account's next attempt waits 1, 2, 4 … s up "
        "to this (never a lock its owner cannot pass).",
    )
    public_metrics: bool = Field(
        default=True, description="Serve /metrics without a credential (for scrapers)."
    )
    public_docs: bool = Field(
        default=True,
        description="Serve the API's description (/openapi.json, /docs, /redoc) without a "
        "credential; false asks for a viewer's.",
    )
