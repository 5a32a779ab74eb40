"""Events of the estate: injected faults, applied actions, changes (deploys, configuration
pushes) and what later stages record.

Listed newest first, filtered by kind, resource and time. Delivery pipelines record changes
with `POST /events` (kind `change.*`): a rollback policy acts only on a resource that changed
(`trigger.changed_within_s`), and explanations show them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from opsgraph.act.policy import CHANGE
from opsgraph.api.deps import ActorDep, RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, TimeBound
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Event

router = APIRouter(prefix="/events", tags=["events"])

_KIND_RE = re.compile(r"^change\.[a-z][a-z0-9_]{0,31}$")
#: The largest payload a change may carry, as JSON.
MAX_PAYLOAD_CHARS = 16_384


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


class ChangeIn(BaseModel):
    """A change of a resource, as a delivery pipeline reports it."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        default="change.deploy",
        description="change.<word>: change.deploy, change.config, change.flag, …",
    )
    resource_id: str = Field(min_length=1, max_length=200)
    ts: float | None = Field(default=None, description="Epoch seconds; default: now.")
    message: str = Field(default="", max_length=2000)
    payload: dict[str, Any] = Field(
        default_factory=dict, description="Version, commit, author…: kept as given."
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not _KIND_RE.match(value):
            raise ValueError(f"must be {CHANGE}<word> (lower case), such as change.deploy")
        return value


@router.post("", status_code=201, summary="Record a change of a resource (a deploy)")
def record_change(body: ChangeIn, runtime: RuntimeDep, who: ActorDep) -> Event:
    """A deploy, configuration push or flag flip of a known resource, at `ts` (default now),
    audited. Rollback policies with `trigger.changed_within_s` act only on resources that
    changed; the change is listed by `GET /events?kind=change.deploy`."""
    store = runtime.store
    if body.resource_id not in runtime.estate.resources:
        raise InvalidInputError("resource_id", f"unknown resource {body.resource_id!r}")
    now = runtime.clock()
    ts = now if body.ts is None else body.ts
    if not math.isfinite(ts):
        raise InvalidInputError("ts", "must be a finite number of epoch seconds")
    api = runtime.settings.api
    from opsgraph.ingest.doors import check_sample_times

    check_sample_times(
        np.array([ts]),
        now=now,
        max_future_skew_s=api.max_future_skew_s,
        max_age_s=api.max_sample_age_s,
        field="event",
    )
    try:
        size = len(json.dumps(body.payload, allow_nan=False))
    except ValueError as exc:
        raise InvalidInputError("payload", "NaN and infinity are not JSON numbers") from exc
    if size > MAX_PAYLOAD_CHARS:
        raise InvalidInputError("payload", f"larger than {MAX_PAYLOAD_CHARS} characters of JSON")
    message = body.message or f"{body.kind.removeprefix(CHANGE)} on {body.resource_id}"
    (event,) = store.add_events(
        [
            Event(
                ts=ts,
                kind=body.kind,
                resource_id=body.resource_id,
                message=message,
                payload=body.payload,
            )
        ]
    )
    store.audit(
        who,
        "events.change",
        body.resource_id,
        inputs={"kind": body.kind, "ts": ts, "payload": body.payload},
    )
    return event
