"""The FastAPI application: routers, error handlers, body limit, dashboard and pipeline life.

`create_app(runtime, run_pipeline=True)` starts the runtime's loop with the server and stops it
cleanly on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from opsgraph import __version__
from opsgraph.api.console import ConsoleFiles
from opsgraph.api.docs_pages import install_docs
from opsgraph.api.errors import BodySizeLimit, document_errors, install_error_handlers
from opsgraph.api.hygiene import RequestHygiene, internal_error
from opsgraph.api.routes import (
    alerts_in,
    anomalies,
    auth,
    automation,
    cloudwatch,
    control,
    events,
    explain_progress,
    forecast,
    graph,
    health,
    incidents,
    ingest,
    live,
    logs,
    metrics,
    model,
    predict,
    prometheus,
    resources,
    series,
    settings,
    sim,
    ws,
)
from opsgraph.api.security import DocsGuard, authorize
from opsgraph.core.extras import require
from opsgraph.notify.dispatch import Dispatcher
from opsgraph.notify.hub import Message
from opsgraph.runtime.root import Runtime

log = logging.getLogger("opsgraph.api")


def _topology_follower(runtime: Runtime) -> Callable[[Message], None]:
    """A hook for events from other replicas: when one registers resources, take the topology
    from the shared store, so this replica's /resources, /graph and ingest know them too."""
    pending: set[asyncio.Task[None]] = set()

    def reload() -> None:
        try:
            runtime.estate.reload()
        except Exception:  # the next topology message tries again
            log.exception("reloading the topology registered on another replica failed")

    def hook(message: Message) -> None:
        data = message.data
        if message.type == "graph:update" and isinstance(data, dict) and data.get("topology"):
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(reload))
            pending.add(task)
            task.add_done_callback(pending.discard)

    return hook


def create_app(runtime: Runtime, *, run_pipeline: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.hub.bind(asyncio.get_running_loop())
        # Replicas: relay events through Redis, and follow topology registered on the others.
        bridge = None
        if runtime.settings.events.redis_url is not None:
            require("redis", "several replicas (events.redis_url)")
            from opsgraph.notify.redis_bridge import bridge_from_settings

            bridge = bridge_from_settings(
                runtime.settings.events, runtime.hub, on_remote=_topology_follower(runtime)
            )
        app.state.event_bridge = bridge
        if bridge is not None:
            await bridge.start()
        # Notifications run as a task of their own on the hub (nothing subscribes without routes).
        # Links in notifications default to the API's own address.
        api = runtime.settings.api
        dispatcher = Dispatcher(
            runtime.hub,
            runtime.settings.notify,
            runtime.store,
            base_url=f"http://{api.host}:{api.port}",
        )
        app.state.notify = dispatcher
        notify_task = asyncio.create_task(dispatcher.run(), name="notify")
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop)) if run_pipeline else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            notify_task.cancel()
            await asyncio.gather(notify_task, return_exceptions=True)
            if bridge is not None:
                await bridge.stop()

    app = FastAPI(
        title="opsgraph",
        version=__version__,
        description="AIOps for a cloud estate seen as a graph of resources.",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
        docs_url=None,  # served from the package's own assets: install_docs
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    document_errors(app)
    install_docs(app)
    for module in (health, graph, anomalies, control, events, resources, ingest, predict, sim, ws):
        app.include_router(module.router)
    app.include_router(series.router)  # series catalogues and search (the metrics page)
    app.include_router(forecast.router)  # a stored series' forecast with its interval
    app.include_router(explain_progress.router)  # an explanation streamed with its stages
    app.include_router(model.router)  # /predict, /batch_predict: the multivariate model
    # Prometheus: remote write in, /metrics out.
    for module in (prometheus, metrics):
        app.include_router(module.router)
    app.include_router(cloudwatch.router)  # EventBridge: CloudWatch alarm state changes
    for module in (auth, incidents):
        app.include_router(module.router)
    # Long-poll fallback of /ws, and Alertmanager's webhook in.
    for module in (live, alerts_in):
        app.include_router(module.router)
    app.include_router(logs.router)  # log lines: ingest, list, /predict/log
    app.include_router(automation.router)  # remediation: approve, trigger, audit
    _ = runtime.automation  # policies act on incidents from the start, not the first call
    app.include_router(settings.router)  # /settings: effective config, secrets redacted
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.api.max_body_bytes)
    app.add_middleware(DocsGuard)  # /docs and /openapi.json behind a credential when configured
    # Outermost of ours: request ids, 431, HEAD; its 500 handler replaces Starlette's plain text.
    app.add_middleware(RequestHygiene, max_header_bytes=runtime.settings.api.max_header_bytes)
    app.add_exception_handler(Exception, internal_error)
    app.mount("/", ConsoleFiles(), name="web")
    return app
