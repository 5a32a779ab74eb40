"""Anomalies are paged newest first by (start_ts, id), all or by status, and listed by incident.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_anomalies_start_ts_id", "anomalies", ["start_ts", "id"])
    op.create_index("ix_anomalies_status_start_ts_id", "anomalies", ["status", "start_ts", "id"])
    op.create_index("ix_anomalies_incident_id", "anomalies", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_anomalies_incident_id", table_name="anomalies")
    op.drop_index("ix_anomalies_status_start_ts_id", table_name="anomalies")
    op.drop_index("ix_anomalies_start_ts_id", table_name="anomalies")
