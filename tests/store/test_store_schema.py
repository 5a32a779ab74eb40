"""Tests of the store's schema: migrations, agreement with tables.py, engine settings.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, inspect

from opsgraph.core.errors import InvalidInputError, StoreError
from opsgraph.core.models import Resource
from opsgraph.store import Store, metadata
from opsgraph.store.store import MIGRATIONS_DIR
from opsgraph.store.tables import TABLE_NAMES

StoreFactory = Callable[..., Store]


def _head() -> str:
    """The newest migration of the scripts folder (there is exactly one head)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return str(head)


def test_migrate_from_empty_then_again(make_store: StoreFactory) -> None:
    store = make_store(fresh=True)
    store.migrate()
    store.upsert_topology([Resource(id="a")], [])
    store.migrate()
    # A second process (a second Store) migrating the same database changes nothing either.
    other = make_store(fresh=False)
    other.migrate()
    assert store.get_resource("a").id == "a"
    assert set(store.counts()) == set(TABLE_NAMES)


def test_schema_matches_metadata(store: Store) -> None:
    with store._engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
        # The comparison does see differences: a column the database lacks.
        changed = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["series"].append_column(Column("unit", String(16)))
        missing = compare_metadata(context, changed)
    assert diff == []
    assert [(d[0], d[3].name) for d in missing] == [("add_column", "unit")]


def test_tables_and_version_table(store: Store, backend: str) -> None:
    with store._engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        if backend == "postgresql":
            where = conn.exec_driver_sql(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'alembic_version' AND table_schema = current_schema()"
            ).scalar_one()
            assert where == store.schema
    assert names == {*TABLE_NAMES, "alembic_version"}
    assert version == _head()


def test_samples_index_for_range_reads(store: Store) -> None:
    with store._engine.connect() as conn:
        indexes = inspect(conn).get_indexes("samples")
    assert [ix["column_names"] for ix in indexes] == [["series_id", "ts"]]


def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "opsgraph.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.migrate()
        assert path.exists()
        assert store.dialect == "sqlite"
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        store.close()


def test_dialect_and_url(store: Store, backend: str) -> None:
    assert store.dialect == backend
    assert store.url.startswith(backend)


def test_bad_url_and_schema_are_refused(pg_url: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        Store("mysql://nobody@localhost/db")
    assert err.value.field == "url"
    with pytest.raises(InvalidInputError) as err:
        Store("not a url")
    assert err.value.field == "url"
    with pytest.raises(InvalidInputError) as err:
        Store(pg_url, schema='x"; DROP TABLE y; --')
    assert err.value.field == "schema"


def test_unreachable_database_raises_store_error() -> None:
    store = Store("postgresql+psycopg://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(StoreError):
            store.migrate()
        with pytest.raises(StoreError):
            store.list_resources()
    finally:
        store.close()


def test_in_memory_sqlite_shared_by_threads() -> None:
    store = Store("sqlite://")
    try:
        store.migrate()
        store.upsert_topology([Resource(id="a")], [])
        sid = store.ensure_series([("a", "cpu")])[0]

        def write(k: int) -> None:
            for j in range(10):
                ts = 1000.0 * k + 10.0 * j + np.arange(10.0)
                store.write_batch(series_ids=np.full(10, sid), ts=ts, values=np.ones(10))

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.counts()["samples"] == 400
    finally:
        store.close()
