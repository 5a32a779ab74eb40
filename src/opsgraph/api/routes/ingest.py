"""Push ingestion: a JSON batch of samples, validated whole, stored and scored all or nothing.

A bad batch gets 422 naming each bad field; nothing of it is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Sample

router = APIRouter(prefix="/ingest", tags=["ingest"])


class SampleBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: list[Sample] = Field(min_length=1)


@router.post("/samples", summary="Push a batch of samples")
def ingest_samples(batch: SampleBatch, runtime: RuntimeDep) -> dict[str, Any]:
    limit = runtime.settings.api.max_batch
    if len(batch.samples) > limit:
        raise InvalidInputError("samples", f"at most {limit} samples per request")
    result = runtime.ingestor.ingest_samples(batch.samples)
    runtime.publish(result)
    return {
        "accepted": result.samples,
        "anomalies": [a.model_dump(mode="json") for a in result.opened],
    }
