"""Logs pushed to a process: each batch templated and scored by the process's log pipeline,
stored, and turned into log metrics that go through detection like any sample."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import LogLevel, LogRecord
from opsgraph.ingest.stream import Ingestor, IngestResult
from opsgraph.logs.pipeline import LogLine, LogPipeline, ScoredLine, bootstrapped_pipeline
from opsgraph.logs.settings import LogSettings
from opsgraph.runtime.intake import Intake
from opsgraph.store import Store

#: Lines stamped further ahead than this are refused: the newest time seen is the clock that
#: closes every resource's log buckets, so one wrong clock would close them all early.
MAX_FUTURE_S = 86_400.0


@dataclass(slots=True)
class LogIntakeResult:
    lines: list[ScoredLine]
    metric_samples: int
    ingested: IngestResult = field(default_factory=IngestResult)


class LogIntake:
    """The log pipeline of this process (built on first use, with the configured bootstrap
    file learned) and the path of a pushed batch through it."""

    def __init__(
        self, settings: LogSettings, *, store: Store, ingestor: Ingestor, intake: Intake
    ) -> None:
        self.settings = settings
        self.store = store
        self.ingestor = ingestor
        self.intake = intake
        self._pipeline: LogPipeline | None = None
        self._build = threading.Lock()

    @property
    def pipeline(self) -> LogPipeline:
        with self._build:
            if self._pipeline is None:
                self._pipeline = bootstrapped_pipeline(self.settings)
            return self._pipeline

    def accept(self, lines: Sequence[LogLine]) -> LogIntakeResult:
        """Template, score and store a batch, then ingest the log metrics its closed buckets
        give. All or nothing: a line of an unknown resource or from the far future refuses
        the batch, and a refused write undoes the model's counts."""
        known = self.ingestor.resources
        latest = time.time() + MAX_FUTURE_S
        for i, line in enumerate(lines):
            if line.resource_id not in known:
                raise InvalidInputError(
                    f"logs[{i}].resource_id", f"unknown resource {line.resource_id!r}"
                )
            if line.ts > latest:
                raise InvalidInputError(f"logs[{i}].ts", "is more than a day in the future")
        pipeline = self.pipeline
        # Batches take turns, metrics included, so each series gets its buckets in time order.
        with pipeline.lock:
            # A refused write undoes the model's counts and buckets, so a retry scores the same.
            with pipeline.transaction({x.resource_id for x in lines}):
                result = pipeline.process(list(lines))
                self.store.add_logs([_record(x) for x in result.lines])
            # The lines are stored: their metrics go through detection like any pushed sample.
            samples = result.samples
            ingested = self.ingestor.ingest_samples(samples) if samples else IngestResult()
        self.intake.publish(ingested)
        return LogIntakeResult(result.lines, len(samples), ingested)


def _record(line: ScoredLine) -> LogRecord:
    return LogRecord(
        ts=line.ts,
        resource_id=line.resource_id,
        level=LogLevel(line.level),
        message=line.message,
        template_id=line.template_id,
        template=line.template,
        score=line.score,
    )
