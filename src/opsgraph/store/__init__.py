"""Persistence of opsgraph: SQLAlchemy 2 tables, Alembic migrations and the `Store` API.

SQLite by default (one file), PostgreSQL in production; import `Store` from here.
"""

from opsgraph.store._records import AnomalyKey, AnomalyPage
from opsgraph.store.store import MIGRATIONS_DIR, Store
from opsgraph.store.tables import metadata

__all__ = ["MIGRATIONS_DIR", "AnomalyKey", "AnomalyPage", "Store", "metadata"]
