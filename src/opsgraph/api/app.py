"""The FastAPI application: routers, error handlers, body limit, dashboard and pipeline life.

`create_app(runtime, run_pipeline=True)` starts the runtime's loop with the server and stops it
cleanly on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from opsgraph import __version__
from opsgraph.api.errors import BodySizeLimit, install_error_handlers
from opsgraph.api.routes import (
    anomalies,
    control,
    events,
    graph,
    health,
    ingest,
    predict,
    resources,
    sim,
    ws,
)
from opsgraph.runtime import Runtime
from opsgraph.web import STATIC_DIR


def create_app(runtime: Runtime, *, run_pipeline: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.hub.bind(asyncio.get_running_loop())
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop)) if run_pipeline else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task

    app = FastAPI(
        title="opsgraph",
        version=__version__,
        description="AIOps for a cloud estate seen as a graph of resources.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (health, graph, anomalies, control, events, resources, ingest, predict, sim, ws):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.api.max_body_bytes)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
