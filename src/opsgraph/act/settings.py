"""The `automation` section of the configuration (policy folder, executors, retries, approval
and verification windows). Imports only `core`, like every section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ExecutorConfig(BaseModel):
    """One configured executor: a built-in type (sim, webhook, notify) or an
    `opsgraph.executors` plug-in, with its options."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64, description="Executor type.")
    options: dict[str, Any] = Field(default_factory=dict, description="Passed to the factory.")


class AutomationSettings(BaseModel):
    """Automated remediation (see docs/remediation.md). No policy folder, no automation."""

    model_config = ConfigDict(extra="forbid")

    policy_dir: Path | None = Field(
        default=None, description="Folder (or file) of YAML policies; none: no policies."
    )
    default_executor: str = Field(
        default="sim", min_length=1, description="Executor of actions that name none."
    )
    executors: dict[str, ExecutorConfig] = Field(
        default_factory=dict, description="Named executors beside the built-in ones."
    )
    approval_ttl_s: float = Field(
        default=3600.0, gt=0, le=7 * 86400, description="Wall seconds a pending action waits."
    )
    execute_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest one executor attempt may take."
    )
    max_attempts: int = Field(default=3, ge=1, le=10, description="Attempts before escalating.")
    backoff_s: float = Field(
        default=1.0, ge=0, le=300, description="First retry delay; doubles after each failure."
    )
    verify_window_s: float = Field(
        default=600.0, gt=0, le=86400, description="Data seconds to wait for the anomaly to clear."
    )
    workers: int = Field(default=2, ge=1, le=32, description="Threads that run actions.")
    tick_s: float = Field(
        default=5.0, ge=0, le=3600, description="Wall seconds between expiry/verification checks."
    )

    @field_validator("policy_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None
