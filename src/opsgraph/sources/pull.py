"""Pull sources: pollers (Prometheus query_range, CloudWatch, file replay) the runtime runs.

A source returns a `Batch` of samples plus the resources they name; the runtime registers new
resources, ingests the samples and publishes what changed, one `poll` per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from opsgraph.core.models import ExternalAlert, Resource, Sample, SampleColumns

log = logging.getLogger("opsgraph.sources")


@dataclass(slots=True)
class Batch:
    """Samples read by one poll, and the resources they name (registered when new)."""

    samples: list[Sample] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    # Bulk sources hand samples over as columns instead (never both).
    columns: SampleColumns | None = None
    done: bool = False  # the source has nothing more to give (a replayed file reached its end)
    # Alerts raised by another system (CloudWatch alarms), for Runtime.receive_alerts.
    alerts: list[ExternalAlert] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.samples and self.columns is not None:
            raise ValueError("a batch carries samples or columns, not both")

    def sample_columns(self) -> SampleColumns:
        return (
            self.columns if self.columns is not None else SampleColumns.from_samples(self.samples)
        )

    @property
    def size(self) -> int:
        """Samples carried, in either form."""
        return len(self.columns) if self.columns is not None else len(self.samples)


@runtime_checkable
class PullSource(Protocol):
    """A source polled every `interval_s` real seconds; `poll` runs in a worker thread."""

    name: str
    interval_s: float

    def poll(self) -> Batch: ...


async def run_pull_source(
    source: PullSource, accept: Callable[[Batch, str], object], stop: asyncio.Event
) -> None:
    """Poll until stop or the source is done; a failed poll is logged and retried next time."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        try:
            batch = await asyncio.to_thread(source.poll)
            if batch.size or batch.resources or batch.alerts:
                await asyncio.to_thread(accept, batch, source.name)
            if batch.done:
                log.info("source %s is done", source.name)
                return
        except Exception:  # one bad poll (server down, bad answer) must not end the source
            log.exception("source %s: poll failed", source.name)
        delay = max(source.interval_s - (loop.time() - started), 0.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
