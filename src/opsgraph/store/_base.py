"""Plumbing shared by the parts of `Store`: engine, transactions, upserts, pagination.

Every public method of the store runs in one `_tx` block, which maps database errors to StoreError.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from opsgraph.core.errors import InvalidInputError, OpsgraphError, StoreError
from opsgraph.store._engine import WRITE_OPTION, dialect_of, is_memory_sqlite, make_engine
from opsgraph.store.tables import Base, ResourceRow

# Bound parameters per IN (...) list: far below SQLite's and PostgreSQL's limits.
_CHUNK = 500

_Row = TypeVar("_Row", bound=Base)


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def check_range(start: float | None, end: float | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInputError("end", "must not be before start")


def describe(exc: BaseException) -> str:
    """A one-line StoreError message naming the driver's error."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    return f"database error ({type(orig).__name__}): {lines[0] if lines else 'no message'}"


class StoreBase:
    """Engine ownership and the transaction helper."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self.schema = schema if self.dialect == "postgresql" else None
        self._engine = make_engine(url, echo=echo, schema=self.schema)
        self._db_error: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        # An in-memory SQLite database lives on one connection: its transactions take turns.
        self._serial: AbstractContextManager[object] = (
            threading.RLock() if is_memory_sqlite(url) else nullcontext()
        )

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction; a write commits at the end; any database error becomes StoreError."""
        with self._serial, self._session(write=write) as session:
            yield session

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        session = Session(self._engine, expire_on_commit=False, autoflush=False)
        try:
            session.connection(execution_options={WRITE_OPTION: write})
            yield session
            if write:
                session.commit()
        except OpsgraphError:
            raise
        except (SQLAlchemyError, self._db_error) as exc:
            raise StoreError(describe(exc)) from exc
        finally:
            session.close()

    def _upsert(
        self, entity: type[Base], keys: Sequence[str], update_cols: Sequence[str]
    ) -> Insert:
        """INSERT ... ON CONFLICT (keys) DO UPDATE the given columns (or DO NOTHING)."""
        if self.dialect == "postgresql":
            pg = pg_insert(entity)
            if not update_cols:
                return pg.on_conflict_do_nothing(index_elements=list(keys))
            return pg.on_conflict_do_update(
                index_elements=list(keys), set_={c: pg.excluded[c] for c in update_cols}
            )
        lite = sqlite_insert(entity)
        if not update_cols:
            return lite.on_conflict_do_nothing(index_elements=list(keys))
        return lite.on_conflict_do_update(
            index_elements=list(keys), set_={c: lite.excluded[c] for c in update_cols}
        )

    @staticmethod
    def _existing_resource_ids(session: Session, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(sorted(set(ids))):
            found.update(session.scalars(select(ResourceRow.id).where(ResourceRow.id.in_(chunk))))
        return found

    @staticmethod
    def _page(
        session: Session,
        entity: type[_Row],
        conds: Sequence[ColumnElement[bool]],
        order: Sequence[Any],
        limit: int,
        offset: int,
    ) -> tuple[Sequence[_Row], int]:
        """One page of rows in `order` and the total number of rows matching `conds`."""
        if limit < 0:
            raise InvalidInputError("limit", "must be 0 or more")
        if offset < 0:
            raise InvalidInputError("offset", "must be 0 or more")
        total = session.scalar(select(func.count()).select_from(entity).where(*conds)) or 0
        query = select(entity).where(*conds).order_by(*order)
        rows = session.scalars(query.limit(limit).offset(offset)).all()
        return rows, int(total)
