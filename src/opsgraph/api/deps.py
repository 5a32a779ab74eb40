"""FastAPI dependencies shared by the routers: the runtime and the store of this process.

Routers ask for these instead of reaching into globals, so tests can build apps freely.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from opsgraph.runtime import Runtime
from opsgraph.store import Store


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_store(request: Request) -> Store:
    return get_runtime(request).store


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StoreDep = Annotated[Store, Depends(get_store)]
