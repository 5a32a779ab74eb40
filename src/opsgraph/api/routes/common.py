"""Shapes shared by the routers: pages of results and the query parameters that make them.

Limits are bounded so one request cannot ask for the whole table.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (1-1000).")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]
TimeBound = Annotated[
    float | None, Query(allow_inf_nan=False, description="Epoch seconds (finite).")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
