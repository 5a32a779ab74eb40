"""Logs: push a batch of lines (templated, scored, stored, counted into log metrics), list the
stored lines, and score raw lines against the served log model (`/predict/log`).

A bad batch gets 422 naming each bad field and stores nothing; a prediction changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, TimeBound
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import LogLevel, LogRecord, check_finite, check_resource_id
from opsgraph.logs.parser import LEVELS, normalise_level
from opsgraph.logs.pipeline import LogLine, LogPipeline

router = APIRouter(tags=["logs"])

#: The largest line accepted (UTF-8 bytes), and the most lines one prediction scores.
MAX_LINE_BYTES = 64 * 1024
MAX_PREDICT_LINES = 10_000


def _line_size(value: str) -> str:
    if len(value) > MAX_LINE_BYTES // 4 and len(value.encode("utf-8")) > MAX_LINE_BYTES:
        raise ValueError(f"must be at most {MAX_LINE_BYTES} bytes (64 KiB)")
    return value


class LogIn(BaseModel):
    """One line of one resource; without `level` it is read from the message."""

    model_config = ConfigDict(extra="forbid")

    ts: float = Field(description="Epoch seconds.")
    resource_id: str
    message: str
    level: str | None = Field(
        default=None,
        description="debug, info, warning, error, critical or an alias (WARN, err, FATAL...).",
    )

    _check_ts = field_validator("ts")(check_finite)
    _check_id = field_validator("resource_id")(check_resource_id)

    _message_size = field_validator("message")(_line_size)

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is None:
            return None
        level = normalise_level(value)
        if level is None:
            raise ValueError(
                f"unknown level {value!r} (one of {', '.join(LEVELS)}, or an alias such as "
                "WARN, err or FATAL)"
            )
        return level


class LogBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    logs: list[LogIn] = Field(min_length=1)


def _raw_line(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("log_line", "must be a string")
    if len(value) > MAX_LINE_BYTES // 4 and len(value.encode("utf-8")) > MAX_LINE_BYTES:
        raise PydanticCustomError("log_line", f"must be at most {MAX_LINE_BYTES} bytes (64 KiB)")
    return value


class PredictLogIn(BaseModel):
    """Raw log lines (the earlier design's `{"data": [...]}` contract)."""

    model_config = ConfigDict(extra="forbid")

    data: list[Annotated[Any, AfterValidator(_raw_line)]] = Field(
        min_length=1,
        max_length=MAX_PREDICT_LINES,
        json_schema_extra={"items": {"type": "string", "maxLength": MAX_LINE_BYTES}},
        description=f"1 to {MAX_PREDICT_LINES:,} lines, each at most 64 KiB.",
    )


def get_log_pipeline(runtime: RuntimeDep) -> LogPipeline:
    return runtime.logs.pipeline


LogPipelineDep = Annotated[LogPipeline, Depends(get_log_pipeline)]


@router.post("/ingest/logs", tags=["ingest"], summary="Push a batch of log lines")
def ingest_logs(batch: LogBatch, runtime: RuntimeDep) -> dict[str, Any]:
    """Each line gets a template and a score against its resource's history; the lines are
    stored, and the buckets they close feed log_lines, log_errors and log_new_templates to
    detection, which opens anomalies like on any metric. All or nothing."""
    limit = runtime.settings.api.max_batch
    if len(batch.logs) > limit:
        raise InvalidInputError("logs", f"at most {limit} lines per request")
    # Log lines feed metrics (their buckets): the same door as pushed samples.
    runtime.check_sample_times(np.array([x.ts for x in batch.logs], dtype=np.float64), "logs")
    lines = [
        LogLine(ts=x.ts, resource_id=x.resource_id, message=x.message, level=x.level)
        for x in batch.logs
    ]
    result = runtime.logs.accept(lines)
    threshold = runtime.logs.pipeline.threshold
    return {
        "accepted": len(result.lines),
        "anomalous": sum(1 for x in result.lines if x.score >= threshold),
        "new_templates": sum(1 for x in result.lines if x.new_template),
        "metric_samples": result.metric_samples,
        "anomalies": [a.model_dump(mode="json") for a in result.ingested.opened],
    }


@router.get("/logs", summary="List log lines, newest first")
def list_logs(
    store: StoreDep,
    resource_id: str | None = None,
    level: Annotated[list[LogLevel] | None, Query(description="Repeat to allow several.")] = None,
    min_score: Annotated[
        float | None, Query(ge=0.0, le=1.0, description="Lines scoring at least this.")
    ] = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LogRecord]:
    items, total = store.list_logs(
        resource_id=resource_id,
        levels=level,
        min_score=min_score,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    return Page[LogRecord](items=items, total=total, limit=limit, offset=offset)


@router.post("/predict/log", tags=["models"], summary="Score raw log lines")
def predict_log(body: PredictLogIn, pipeline: LogPipelineDep) -> dict[str, Any]:
    """Per line: its template (id null for a template never seen), its anomaly score in
    [0, 1] against every line this process has learned, is_anomaly and severity. Nothing
    is learned from the request."""
    threshold = pipeline.threshold
    scored = pipeline.predict(body.data)
    return {
        "model": {**pipeline.stats(), "threshold": threshold},
        "predictions": [
            {
                "line": i,
                "template_id": x.template_id,
                "template": x.template,
                "level": x.level,
                "score": x.score,
                "is_anomaly": x.score >= threshold,
                "severity": x.severity.value,
                "new_template": x.new_template,
            }
            for i, x in enumerate(scored)
        ],
    }
