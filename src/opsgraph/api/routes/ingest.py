"""Push ingestion: a JSON batch of samples, validated whole, stored and scored all or nothing.

A bad batch gets 422 naming each bad field; nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import METRIC_NAME_RE
from opsgraph.core.models import Sample, SampleColumns
from opsgraph.runtime.root import Runtime

router = APIRouter(prefix="/ingest", tags=["ingest"])


class SampleBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: list[Sample] = Field(min_length=1)


# Types only: names, ids and finiteness are checked once per batch, not once per sample.
class _RawSample(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    resource_id: str
    metric: str
    ts: Annotated[float, Strict()]  # a boolean or a string is not a number
    value: Annotated[float, Strict()]


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


def columnar(body: bytes, known: Container[str]) -> SampleColumns | None:
    """The batch as columns when it is valid and names only known resources; otherwise None
    (the caller then validates it sample by sample to name each bad field).

    Types are checked by one TypedDict pass, names and finiteness once per batch: about four
    times cheaper per sample than building Sample objects.
    """
    try:
        items = _RAW.validate_json(body)["samples"]
    except ValidationError:
        return None
    if not items:
        return None
    n = len(items)
    index: dict[tuple[str, str], int] = {}
    series = np.fromiter(
        (index.setdefault((s["resource_id"], s["metric"]), len(index)) for s in items),
        dtype=np.int64,
        count=n,
    )
    ts = np.fromiter((s["ts"] for s in items), dtype=np.float64, count=n)
    values = np.fromiter((s["value"] for s in items), dtype=np.float64, count=n)
    if not (np.isfinite(values).all() and np.isfinite(ts).all()):
        return None
    keys = list(index)
    # Registered resources passed the id check when they were registered.
    if not all(r in known for r, _ in keys) or not all(METRIC_NAME_RE.match(m) for _, m in keys):
        return None
    return SampleColumns(keys=keys, series=series, ts=ts, values=values)


def _ingest(runtime: Runtime, body: bytes) -> dict[str, Any]:
    limit = runtime.settings.api.max_batch
    columns = columnar(body, runtime.ingestor.resources)
    if columns is None:
        # Every bad batch: the full model names each bad field.
        try:
            batch = SampleBatch.model_validate_json(body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None
        columns = SampleColumns.from_samples(batch.samples)
    if len(columns) > limit:
        raise InvalidInputError("samples", f"at most {limit} samples per request")
    runtime.check_sample_times(columns.ts)
    result = runtime.ingestor.ingest_arrays(columns)
    runtime.intake.publish(result)
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
    registered; `ts` is epoch seconds within `api.max_sample_age_s` before now and
    `api.max_future_skew_s` after it; numbers are numbers (not booleans or strings); NaN and
    infinity are refused; one bad sample refuses the whole batch."""
    body = await request.body()
    # Parsing and scoring hold the CPU: off the event loop, which keeps WebSockets flowing.
    return await run_in_threadpool(_ingest, runtime, body)
