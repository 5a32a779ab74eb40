"""The WebSocket: pushes anomaly:new / resolved, graph:update, metrics:update and fault:new.

Every message is {"type": ..., "data": ...}; the first is "hello".
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from opsgraph import __version__
from opsgraph.api.security import resolve
from opsgraph.core.errors import OpsgraphError
from opsgraph.notify.hub import Message
from opsgraph.runtime.root import Runtime

router = APIRouter(tags=["live"])

#: Put on a client's queue when the client has gone.
_CLOSED = Message("closed", None)


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    try:
        principal = resolve(websocket)
    except OpsgraphError:
        principal = None
    if principal is None:
        # Policy violation: no valid credential (cookie, bearer header or API key).
        await websocket.close(code=1008, reason="authentication required")
        return
    await websocket.accept()
    async with runtime.hub.subscribe() as queue:
        await websocket.send_json({"type": "hello", "data": {"version": __version__}})
        # Read in the background only to notice the client leaving; then wake the loop.
        reader = asyncio.create_task(_drain(websocket))

        def closed(_: asyncio.Task[None]) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(_CLOSED)

        reader.add_done_callback(closed)
        try:
            while (message := await queue.get()) is not _CLOSED:
                await websocket.send_text(message.text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader


async def _drain(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
