"""FastAPI dependencies shared by the routers: the runtime and the store of this process.

Routers ask for these instead of reaching into globals, so tests can build apps freely.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from opsgraph.runtime.root import Runtime
from opsgraph.store import Store


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_store(request: Request) -> Store:
    return get_runtime(request).store


def get_actor(request: Request) -> str:
    """The caller's name, for audit records (set by the app-wide authorisation)."""
    from opsgraph.api.security import current

    return current(request).name


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ActorDep = Annotated[str, Depends(get_actor)]
StoreDep = Annotated[Store, Depends(get_store)]
