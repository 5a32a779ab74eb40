"""The relational schema of opsgraph: one SQLAlchemy 2 table per persisted domain type.

Migration 0001 creates exactly this schema; a test compares the two with alembic's autogenerate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Deterministic constraint names, so the migration and the metadata name things alike.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Column widths shared with the migration.
ID_LEN = 200
METRIC_LEN = 128
NAME_LEN = 200
ENUM_LEN = 32


class Base(DeclarativeBase):
    """Declarative base holding the one `MetaData` of the store."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


metadata = Base.metadata


class ResourceRow(Base):
    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(ENUM_LEN))
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    provider: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    tags: Mapped[dict[str, str]] = mapped_column(JSON)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class DependencyRow(Base):
    __tablename__ = "dependencies"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        Index(None, "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("resources.id"))
    target_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("resources.id"))
    kind: Mapped[str] = mapped_column(String(ENUM_LEN))
    inferred: Mapped[bool] = mapped_column(Boolean)


class SeriesRow(Base):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("resource_id", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("resources.id"))
    metric: Mapped[str] = mapped_column(String(METRIC_LEN))


#: The hot table: no primary key and no foreign key (write_batch checks series ids itself),
#: one composite index for range reads of one series.
samples = Table(
    "samples",
    metadata,
    Column("series_id", Integer, nullable=False),
    Column("ts", Double, nullable=False),
    Column("value", Double, nullable=False),
    Index(None, "series_id", "ts"),
)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index(None, "ts"), Index(None, "kind"), Index(None, "resource_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(64))
    # No foreign key: events may name resources the topology does not (yet) hold.
    resource_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    severity: Mapped[str | None] = mapped_column(String(ENUM_LEN))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index(None, "status"), Index(None, "opened_ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(ENUM_LEN))
    severity: Mapped[str] = mapped_column(String(ENUM_LEN))
    opened_ts: Mapped[float] = mapped_column(Double)
    resolved_ts: Mapped[float | None] = mapped_column(Double)
    root_resource_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    resource_ids: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    updated_ts: Mapped[float | None] = mapped_column(Double)
    acknowledged_ts: Mapped[float | None] = mapped_column(Double)
    acknowledged_by: Mapped[str | None] = mapped_column(String(NAME_LEN))
    root_confidence: Mapped[float | None] = mapped_column(Double)
    hypotheses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class AnomalyRow(Base):
    __tablename__ = "anomalies"
    __table_args__ = (
        Index(None, "last_ts"),
        Index(None, "resource_id"),
        Index(None, "status"),
        # Newest first by (start_ts, id), all or by status: the Alerts page's keyset pages.
        Index(None, "start_ts", "id"),
        Index(None, "status", "start_ts", "id"),
        Index(None, "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("resources.id"))
    metric: Mapped[str] = mapped_column(String(METRIC_LEN))
    detector: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[float] = mapped_column(Double)
    last_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float | None] = mapped_column(Double)
    score: Mapped[float] = mapped_column(Double)
    max_score: Mapped[float] = mapped_column(Double)
    severity: Mapped[str] = mapped_column(String(ENUM_LEN))
    value: Mapped[float] = mapped_column(Double)
    expected: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(ENUM_LEN))
    incident_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("incidents.id", ondelete="SET NULL")
    )
    fingerprint: Mapped[str] = mapped_column(String(64), server_default="", index=True)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    silence_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, server_default="")


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "ts"), Index(None, "action"), Index(None, "target"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    action: Mapped[str] = mapped_column(String(NAME_LEN))
    target: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index(None, "anomaly_id"), Index(None, "resource_id", "metric"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    anomaly_id: Mapped[int] = mapped_column(Integer, ForeignKey("anomalies.id"))
    resource_id: Mapped[str] = mapped_column(String(ID_LEN))
    metric: Mapped[str] = mapped_column(String(METRIC_LEN))
    verdict: Mapped[str] = mapped_column(String(ENUM_LEN))
    score: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    ts: Mapped[float] = mapped_column(Double)


class MaintenanceRow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (Index(None, "end_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_ids: Mapped[list[str]] = mapped_column(JSON)
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    created_ts: Mapped[float] = mapped_column(Double)


class IncidentEventRow(Base):
    __tablename__ = "incident_events"
    __table_args__ = (Index(None, "incident_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("incidents.id", ondelete="CASCADE")
    )
    ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class SilenceRow(Base):
    __tablename__ = "silences"
    __table_args__ = (Index(None, "ends_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    starts_ts: Mapped[float] = mapped_column(Double)
    ends_ts: Mapped[float] = mapped_column(Double)
    comment: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(NAME_LEN))
    created_ts: Mapped[float] = mapped_column(Double)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(ENUM_LEN))
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_ts: Mapped[float] = mapped_column(Double)
    last_login_ts: Mapped[float | None] = mapped_column(Double)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(ENUM_LEN))
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_ts: Mapped[float] = mapped_column(Double)
    expires_ts: Mapped[float | None] = mapped_column(Double)
    last_used_ts: Mapped[float | None] = mapped_column(Double)
    revoked_ts: Mapped[float | None] = mapped_column(Double)


class AuthSessionRow(Base):
    """One refresh token (by its id, never the token): revoked at logout or on reuse."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index(None, "user_id"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"))
    created_ts: Mapped[float] = mapped_column(Double)
    expires_ts: Mapped[float] = mapped_column(Double)
    revoked_ts: Mapped[float | None] = mapped_column(Double)


#: Every table, in the order `Store.counts` reports them.
TABLE_NAMES: tuple[str, ...] = (
    "resources",
    "dependencies",
    "series",
    "samples",
    "events",
    "anomalies",
    "incidents",
    "audit_events",
    "feedback",
    "maintenance_windows",
    "incident_events",
    "silences",
    "users",
    "api_keys",
    "auth_sessions",
    "logs",
    "automation_actions",
)


class LogRow(Base):
    """A scored log line (store/_logs.py); the template id is drain3's, valid in one process."""

    __tablename__ = "logs"
    __table_args__ = (Index(None, "ts"), Index(None, "resource_id", "ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Double)
    resource_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("resources.id"))
    level: Mapped[str] = mapped_column(String(ENUM_LEN))
    message: Mapped[str] = mapped_column(Text)
    template_id: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Double)


class AutomationActionRow(Base):
    """One planned remediation action (store/_automation.py). The unique idempotency key is
    written before the action runs, so a restart never runs it twice."""

    __tablename__ = "automation_actions"
    __table_args__ = (Index(None, "status"), Index(None, "target", "ts"), Index(None, "ts"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    ts: Mapped[float] = mapped_column(Double)
    created_ts: Mapped[float] = mapped_column(Double)
    updated_ts: Mapped[float] = mapped_column(Double)
    policy: Mapped[str] = mapped_column(String(NAME_LEN))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(ID_LEN))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    executor: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(ENUM_LEN))
    status: Mapped[str] = mapped_column(String(ENUM_LEN))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    expires_ts: Mapped[float | None] = mapped_column(Double)
    verify_until: Mapped[float | None] = mapped_column(Double)
    attempts: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
