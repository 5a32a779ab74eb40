"""Fixtures of the store tests: a migrated `Store` on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is required, never skipped: each test session gets its own schema, dropped at the end.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from opsgraph.store import Store
from opsgraph.store.tables import TABLE_NAMES

PG_URL = os.environ.get("OPSGRAPH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

StoreFactory = Callable[..., Store]


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_URL, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A schema of its own for this test session (so parallel sessions never meet)."""
    name = f"opsgraph_test_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin(f'CREATE SCHEMA "{name}"')
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable (the store tests need it): {exc}")
    yield name
    _pg_admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def make_store(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreFactory]:
    """Build unmigrated stores on the backend named by the test's `backend` parameter.

    `fresh=True` gives an empty database (a new SQLite file, a new PostgreSQL schema); otherwise
    every call opens the test's shared database.
    """
    opened: list[Store] = []
    extra_schemas: list[str] = []
    counter = itertools.count()
    shared_dir = tmp_path_factory.mktemp("store")

    def factory(*, fresh: bool = False) -> Store:
        n = next(counter)
        if backend == "sqlite":
            # A nested, not yet existing directory: the store must create it.
            path = shared_dir / (f"fresh{n}" if fresh else "shared") / "opsgraph.db"
            store = Store(f"sqlite:///{path}")
        else:
            schema: str = request.getfixturevalue("pg_schema")
            if fresh:
                schema = f"{schema}_{n}"
                extra_schemas.append(schema)
            store = Store(PG_URL, schema=schema)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()
    for schema in extra_schemas:
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def pg_url() -> str:
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(backend: str, make_store: StoreFactory) -> Store:
    """A migrated, empty store."""
    st = make_store()
    st.migrate()
    if backend == "postgresql":
        # The session's schema is shared by the tests: empty it, ids restart at 1.
        tables = ", ".join(f'"{name}"' for name in TABLE_NAMES)
        with st._engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return st
