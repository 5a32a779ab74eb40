"""The `store` section of the configuration: where the data lives."""

from __future__ import annotations

from pydantic import Field

from opsgraph.core.settings import Section


class StoreSettings(Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means a SQLite file opsgraph.db in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    auto_migrate: bool = Field(default=True, description="Apply Alembic migrations at start.")
    persist_samples: bool = Field(
        default=True, description="Write every ingested sample to the store (else only windows)."
    )
