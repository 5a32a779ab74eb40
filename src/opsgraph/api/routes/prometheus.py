"""Prometheus remote-write receiver: POST /api/v1/write takes a snappy-compressed WriteRequest.

Answers 204 like Prometheus expects; 400 for a body that is not one (Prometheus drops it).
"""

from __future__ import annotations

import threading
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.errors import OpsgraphError
from opsgraph.runtime.root import Runtime
from opsgraph.sources.prom_mapping import SeriesMapper
from opsgraph.sources.prometheus import RemoteWriteError, RemoteWriteReceiver, WriteOutcome

router = APIRouter(tags=["prometheus"])

#: A body may decompress to at most this many times api.max_body_bytes.
MAX_EXPANSION = 8
_create_lock = threading.Lock()
_PROTOCOLS = ("", "proto=prometheus.WriteRequest")


class UnsupportedMediaError(RemoteWriteError):
    """A body in another encoding or message than remote write 1.0 (HTTP 415)."""

    http_status = 415


def get_receiver(request: Request) -> RemoteWriteReceiver:
    """The app's receiver (its label memo and counters live as long as the app)."""
    state = request.app.state
    receiver: RemoteWriteReceiver | None = getattr(state, "prometheus_receiver", None)
    if receiver is None:
        with _create_lock:
            receiver = getattr(state, "prometheus_receiver", None)
            if receiver is None:
                settings = request.app.state.runtime.settings
                receiver = RemoteWriteReceiver(
                    SeriesMapper.from_settings(settings.sources.prometheus),
                    max_samples=settings.api.max_batch,
                    max_decoded_bytes=settings.api.max_body_bytes * MAX_EXPANSION,
                )
                state.prometheus_receiver = receiver
    return receiver


ReceiverDep = Annotated[RemoteWriteReceiver, Depends(get_receiver)]


def _check_headers(request: Request) -> None:
    encoding = request.headers.get("content-encoding", "snappy").strip().lower()
    if encoding != "snappy":
        raise UnsupportedMediaError(
            "Content-Encoding", f"{encoding!r} is not supported; remote write uses snappy"
        )
    media = request.headers.get("content-type", "application/x-protobuf")
    kind, _, params = media.partition(";")
    # Remote write 2.0 says proto=io.prometheus.write.v2.Request: another message, refused.
    version = params.replace(" ", "")
    if kind.strip().lower() != "application/x-protobuf" or version not in _PROTOCOLS:
        raise UnsupportedMediaError(
            "Content-Type",
            f"{media!r} is not supported; expected application/x-protobuf "
            "(remote write 1.0, prometheus.WriteRequest)",
        )


def _receive(runtime: Runtime, receiver: RemoteWriteReceiver, body: bytes) -> WriteOutcome:
    outcome = receiver.decode(body, known=runtime.estate.resources)
    if outcome.batch.size:
        runtime.check_sample_times(outcome.batch.sample_columns().ts, field="timeseries.samples")
    if outcome.batch.size or outcome.batch.resources:
        runtime.intake.accept(outcome.batch, "prometheus")
    return outcome


@router.post(
    "/api/v1/write",
    status_code=204,
    response_class=Response,
    summary="Prometheus remote write (1.0)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    responses={
        400: {"description": "not snappy, not a WriteRequest, or too many samples"},
        413: {"description": "body larger than api.max_body_bytes"},
        415: {"description": "another encoding or protocol version"},
    },
)
async def remote_write(request: Request, runtime: RuntimeDep, receiver: ReceiverDep) -> Response:
    """Samples as Prometheus' `remote_write` sends them: resource from the `instance` (else
    `job`) label, metric from `__name__`; stale markers and NaN are dropped and counted."""
    if not runtime.settings.sources.prometheus.remote_write:
        raise HTTPException(404, "remote write is off (sources.prometheus.remote_write: false)")
    body = await request.body()
    started = time.perf_counter()
    try:
        _check_headers(request)
        outcome = await run_in_threadpool(_receive, runtime, receiver, body)
    except RemoteWriteError:
        receiver.stats.observe("invalid", time.perf_counter() - started, {})
        raise
    except OpsgraphError as exc:
        # 5xx (store unavailable) makes Prometheus retry; 4xx makes it drop the batch.
        outcome_name = "failed" if exc.http_status >= 500 else "refused"
        receiver.stats.observe(outcome_name, time.perf_counter() - started, {})
        raise
    counts = outcome.counts
    receiver.stats.observe("ok", time.perf_counter() - started, counts)
    dropped = sum(n for k, n in counts.items() if k != "accepted")
    return Response(
        status_code=204,
        headers={
            "X-Opsgraph-Samples-Accepted": str(counts["accepted"]),
            "X-Opsgraph-Samples-Dropped": str(dropped),
        },
    )
