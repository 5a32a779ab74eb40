"""The service: alert lifecycle (fingerprints, silences, incident timelines) and access control
(users, API keys, refresh-token sessions).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("anomalies") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), server_default="", nullable=False))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("silence_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))
    op.create_index("ix_anomalies_fingerprint", "anomalies", ["fingerprint"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("updated_ts", sa.Double(), nullable=True))
        batch.add_column(sa.Column("acknowledged_ts", sa.Double(), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(200), nullable=True))
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_incident_events_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_events"),
    )
    op.create_index("ix_incident_events_incident_id_ts", "incident_events", ["incident_id", "ts"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_ts", sa.Double(), nullable=False),
        sa.Column("ends_ts", sa.Double(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_ts", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_ends_ts", "silences", ["ends_ts"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_ts", sa.Double(), nullable=False),
        sa.Column("last_login_ts", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_ts", sa.Double(), nullable=False),
        sa.Column("expires_ts", sa.Double(), nullable=True),
        sa.Column("last_used_ts", sa.Double(), nullable=True),
        sa.Column("revoked_ts", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "auth_sessions",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_ts", sa.Double(), nullable=False),
        sa.Column("expires_ts", sa.Double(), nullable=False),
        sa.Column("revoked_ts", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_auth_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])


def downgrade() -> None:
    for table in ("auth_sessions", "api_keys", "users", "silences", "incident_events"):
        op.drop_table(table)
    with op.batch_alter_table("incidents") as batch:
        for column in ("acknowledged_by", "acknowledged_ts", "updated_ts"):
            batch.drop_column(column)
    op.drop_index("ix_anomalies_fingerprint", "anomalies")
    with op.batch_alter_table("anomalies") as batch:
        for column in ("reason", "silence_id", "duplicate_of", "fingerprint"):
            batch.drop_column(column)
