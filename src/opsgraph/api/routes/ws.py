"""The WebSocket: pushes anomaly:new / resolved, graph:update, metrics:update and fault:new.

Every message is {"type": ..., "data": ...}; the first is "hello".
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from opsgraph import __version__
from opsgraph.api.security import resolve
from opsgraph.auth import Principal
from opsgraph.core.errors import OpsgraphError
from opsgraph.notify.hub import Message
from opsgraph.runtime.root import Runtime

router = APIRouter(tags=["live"])

#: Put on a client's queue when the client has gone, or its credential has.
_CLOSED = Message("closed", None)
#: How often an open socket's credential is checked again (revocation ends it within this).
RECHECK_S = 0.5


def origin_allowed(websocket: WebSocket, public_urls: list[str]) -> bool:
    """A browser's socket must come from a page of ours: the origin it connected to, or one of
    `api.public_urls`. Clients that send no Origin (scripts, servers) are not browsers."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    host = websocket.headers.get("host", "").lower()
    if origin in (f"http://{host}", f"https://{host}"):
        return True
    return origin in {u.rstrip("/").lower() for u in public_urls}


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if not origin_allowed(websocket, runtime.settings.api.public_urls):
        # Cross-site WebSocket hijacking: another site's page riding the login cookie.
        await websocket.close(code=1008, reason="origin not allowed")
        return
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
        # Revoking the key or disabling the user ends the socket (1008) within RECHECK_S.
        watcher = asyncio.create_task(_watch(runtime, principal))
        watcher.add_done_callback(closed)
        try:
            while (message := await queue.get()) is not _CLOSED:
                await websocket.send_text(message.text)
            if watcher.done() and not watcher.cancelled():
                await websocket.close(code=1008, reason="credential revoked or user disabled")
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in (reader, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task


async def _watch(runtime: Runtime, principal: Principal) -> None:
    """Returns when the socket's principal may no longer listen."""
    while True:
        await asyncio.sleep(RECHECK_S)
        try:
            ok = await run_in_threadpool(runtime.auth.still_valid, principal)
        except Exception:  # the store is down: keep the socket, check again
            continue
        if not ok:
            return


async def _drain(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
