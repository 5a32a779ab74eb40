"""Events of the estate: injected faults, applied actions, and what later stages record.

Paginated and filtered by kind, resource and time, newest first.
"""

from __future__ import annotations

from fastapi import APIRouter

from opsgraph.api.deps import StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, TimeBound
from opsgraph.core.models import Event

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", summary="List events, newest first")
def list_events(
    store: StoreDep,
    kind: str | None = None,
    resource_id: str | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Event]:
    items, total = store.list_events(
        kind=kind, resource_id=resource_id, start=start, end=end, limit=limit, offset=offset
    )
    return Page[Event](items=items, total=total, limit=limit, offset=offset)
