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
from opsgraph.runtime import Runtime

router = APIRouter(tags=["live"])


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
        # Read in the background only to notice the client leaving.
        reader = asyncio.create_task(_drain(websocket))
        try:
            while not reader.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                await websocket.send_json(getter.result().as_json())
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
