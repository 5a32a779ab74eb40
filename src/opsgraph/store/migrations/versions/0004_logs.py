"""Log lines with their template and anomaly score.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("resource_id", sa.String(200), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_logs"),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name="fk_logs_resource_id_resources"
        ),
    )
    op.create_index("ix_logs_ts", "logs", ["ts"])
    op.create_index("ix_logs_resource_id_ts", "logs", ["resource_id", "ts"])


def downgrade() -> None:
    op.drop_table("logs")
