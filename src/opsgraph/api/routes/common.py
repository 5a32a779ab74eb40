"""Shapes shared by the routers: pages of results and the query parameters that make them.

Limits are bounded so one request cannot ask for the whole table.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from annotated_types import Ge, Le
from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

#: Ids and offsets reach the database: beyond a 64-bit signed integer, neither SQLite nor
#: PostgreSQL can even compare them (a 500 instead of a 404 or an empty page).
MAX_ROW_ID = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Items to skip.")]
#: A row id in a path or query parameter (anomaly, maintenance window, incident...).
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
TimeBound = Annotated[
    float | None, Query(allow_inf_nan=False, description="Epoch seconds (finite).")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(Page[T], Generic[T]):
    """A page by key: `offset` is how many matching items come before it (informative; they
    shift as items arrive); `next_cursor` fetches the items just older, `prev_cursor` those
    just newer (null at either end). Paging by cursor neither repeats nor skips an item while
    new ones arrive."""

    next_cursor: str | None = None
    prev_cursor: str | None = None
