"""Push ingestion: a JSON batch of samples, validated whole, stored and scored all or nothing.

A bad batch gets 422 naming each bad field; nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import METRIC_NAME_RE
from opsgraph.core.models import Sample
from opsgraph.ingest import IngestResult
from opsgraph.runtime import Runtime

router = APIRouter(prefix="/ingest", tags=["ingest"])


class SampleBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: list[Sample] = Field(min_length=1)


# Types only: names, ids and finiteness are checked once per batch, not once per sample.
class _RawSample(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    resource_id: str
    metric: str
    ts: float
    value: float


class _RawBatch(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    samples: list[_RawSample]


_RAW = TypeAdapter(_RawBatch)

# The handler reads the body itself, so the documented schema is given here.
_BODY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["samples"],
    "properties": {
        "samples": {"type": "array", "minItems": 1, "items": Sample.model_json_schema()}
    },
}


@dataclass(frozen=True, slots=True)
class _Columns:
    keys: list[tuple[str, str]]
    ts: float
    values: npt.NDArray[np.float64]


def columnar(body: bytes, known: Container[str]) -> _Columns | None:
    """The batch as columns when it is valid, names only known resources, holds one timestamp
    and each series once (what an agent pushing one scrape sends); otherwise None.

    Such a batch is exactly what the simulator's frames are, so it takes the same vectorised
    path through the ingestor, about 4x cheaper per sample than building Sample objects.
    """
    try:
        items = _RAW.validate_json(body)["samples"]
    except ValidationError:
        return None
    if not items:
        return None
    n = len(items)
    ts = np.fromiter((s["ts"] for s in items), dtype=np.float64, count=n)
    values = np.fromiter((s["value"] for s in items), dtype=np.float64, count=n)
    if not (np.isfinite(values).all() and np.isfinite(ts[0]) and (ts == ts[0]).all()):
        return None
    keys = [(s["resource_id"], s["metric"]) for s in items]
    resources = {r for r, _ in keys}
    metrics = {m for _, m in keys}
    # Registered resources passed the id check when they were registered.
    if not all(r in known for r in resources) or not all(METRIC_NAME_RE.match(m) for m in metrics):
        return None
    if len(set(keys)) != n:
        return None
    return _Columns(keys, float(ts[0]), values)


def _ingest(runtime: Runtime, body: bytes) -> dict[str, Any]:
    limit = runtime.settings.api.max_batch
    columns = columnar(body, runtime.ingestor.resources)
    result: IngestResult
    if columns is not None:
        if len(columns.keys) > limit:
            raise InvalidInputError("samples", f"at most {limit} samples per request")
        result = runtime.ingestor.ingest_columns(columns.keys, columns.ts, columns.values)
    else:
        # Every other batch, and every bad one: the full model names each bad field.
        try:
            batch = SampleBatch.model_validate_json(body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None
        if len(batch.samples) > limit:
            raise InvalidInputError("samples", f"at most {limit} samples per request")
        result = runtime.ingestor.ingest_samples(batch.samples)
    runtime.publish(result)
    return {
        "accepted": result.samples,
        "anomalies": [a.model_dump(mode="json") for a in result.opened],
    }


@router.post(
    "/samples",
    summary="Push a batch of samples",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
)
async def ingest_samples(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """`{"samples": [{"resource_id", "metric", "ts", "value"}, …]}`: every resource must be
    registered; NaN and infinity are refused; one bad sample refuses the whole batch."""
    body = await request.body()
    # Parsing and scoring hold the CPU: off the event loop, which keeps WebSockets flowing.
    return await run_in_threadpool(_ingest, runtime, body)
