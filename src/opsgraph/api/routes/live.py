"""The HTTP fallback of the WebSocket: `GET /events/live?after=<cursor>&timeout=<s>` long-polls
the hub's ring buffer for the messages after a cursor; ask again with the cursor returned.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.notify.hub import MESSAGE_TYPES

router = APIRouter(prefix="/events", tags=["live"])

#: A long-poll never holds a request longer than this (it also bounds how long a shutdown waits).
MAX_TIMEOUT_S = 30.0


class LiveMessage(BaseModel):
    id: int
    type: str
    data: Any


class LivePage(BaseModel):
    cursor: int
    messages: list[LiveMessage]
    missed: int
    reset: bool


@router.get("/live", summary="Long-poll the live messages after a cursor")
async def live(
    runtime: RuntimeDep,
    after: Annotated[int, Query(ge=0, description="Cursor: the id of the last message seen.")] = 0,
    timeout: Annotated[
        float, Query(ge=0, le=MAX_TIMEOUT_S, description="Seconds to wait for a first message.")
    ] = 20.0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most messages returned.")] = 500,
    types: Annotated[
        str | None, Query(description="Comma-separated message types to return (default all).")
    ] = None,
) -> LivePage:
    """Messages with an id after `after`, oldest first; waits up to `timeout` seconds when there
    are none yet. Answer: {cursor, messages[{id, type, data}], missed, reset}; ask again with
    after=cursor. `reset` means the cursor was from an earlier run of the server."""
    wanted = None
    if types is not None:
        wanted = {t.strip() for t in types.split(",") if t.strip()}
        unknown = sorted(wanted - MESSAGE_TYPES)
        if unknown or not wanted:
            known = ", ".join(sorted(MESSAGE_TYPES))
            raise InvalidInputError("types", f"unknown message types {unknown} (known: {known})")
    result = await runtime.hub.poll(after, timeout, limit=limit, types=wanted)
    return LivePage(
        cursor=result.cursor,
        messages=[LiveMessage(id=m.id, type=m.type, data=m.data) for m in result.messages],
        missed=result.missed,
        reset=result.reset,
    )
