"""Log anomaly scoring: each line's template rarity per resource, and per-bucket log metrics.

`LogPipeline` is the streaming model one process serves (ingest, /predict/log); `score_lines`
scores a file offline. Both score a line before learning from it, so nothing looks ahead.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from opsgraph.core.errors import ConfigError
from opsgraph.core.models import Sample, Severity, severity_for
from opsgraph.detect.calibrate import ExponentialCalibrator
from opsgraph.logs.parser import (
    ERROR_LEVELS,
    TemplateParser,
    TemplateStats,
    infer_level,
    normalise_level,
)
from opsgraph.logs.settings import LogSettings

#: The metrics each resource's log lines produce per bucket (fed to the metric pipeline).
LOG_LINES, LOG_ERRORS, LOG_NEW_TEMPLATES = "log_lines", "log_errors", "log_new_templates"
LOG_METRICS = (LOG_LINES, LOG_ERRORS, LOG_NEW_TEMPLATES)
#: The stream of every line, whatever its resource: what /predict/log scores against.
ALL = ""


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line to score: `level` None means read it from the message."""

    ts: float
    resource_id: str
    message: str
    level: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredLine:
    ts: float
    resource_id: str
    message: str
    level: str
    template_id: int | None
    template: str
    surprise: float
    score: float
    new_template: bool  # the first line of this template on its resource (or stream)

    @property
    def severity(self) -> Severity:
        return severity_for(self.score)


@dataclass(slots=True)
class LogBatchResult:
    lines: list[ScoredLine]
    samples: list[Sample]  # log metrics of the buckets this batch closed


@dataclass(slots=True)
class _Bucket:
    lines: int = 0
    errors: int = 0
    new: int = 0


@dataclass(slots=True)
class _Resource:
    first_open: float  # start of the oldest bucket not yet emitted
    open: dict[float, _Bucket] = field(default_factory=dict)


class LogBuckets:
    """Per resource, counts per time bucket; a bucket is emitted as samples once it is over.

    A bucket [t, t + bucket_s) closes when a line newer than t + bucket_s + grace_s arrives
    (on any resource: the newest time seen is the clock). A silent resource emits zeros, up to
    `max_gap` empty buckets at a time. A line later than its closed bucket counts in its
    resource's oldest open bucket, so no line is lost from the totals.
    """

    def __init__(self, bucket_s: float, grace_s: float = 0.0, max_gap: int = 60) -> None:
        if not bucket_s > 0 or grace_s < 0 or max_gap < 1:
            raise ValueError("need bucket_s > 0, grace_s >= 0 and max_gap >= 1")
        self.bucket_s = bucket_s
        self.grace_s = grace_s
        self.max_gap = max_gap
        self.clock = -math.inf
        self._resources: dict[str, _Resource] = {}

    def start_of(self, ts: float) -> float:
        return math.floor(ts / self.bucket_s) * self.bucket_s

    def add(self, resource_id: str, ts: float, *, error: bool, new: bool) -> None:
        start = self.start_of(ts)
        state = self._resources.get(resource_id)
        if state is None:
            state = self._resources[resource_id] = _Resource(first_open=start)
        start = max(start, state.first_open)
        bucket = state.open.get(start)
        if bucket is None:
            bucket = state.open[start] = _Bucket()
        bucket.lines += 1
        bucket.errors += int(error)
        bucket.new += int(new)
        self.clock = max(self.clock, ts)

    def close(self) -> list[Sample]:
        """Samples of every bucket over by the clock, oldest first per resource."""
        out: list[Sample] = []
        horizon = self.clock - self.grace_s
        for rid, state in self._resources.items():
            emitted = 0
            start = state.first_open
            while start + self.bucket_s <= horizon:
                bucket = state.open.pop(start, None)
                if bucket is None:
                    if emitted >= self.max_gap:
                        # Silent for long: skip to the next bucket with lines, or to the clock.
                        start = min([*state.open, self.start_of(horizon)])
                        emitted = 0
                        continue
                    bucket = _Bucket()
                for metric, value in zip(
                    LOG_METRICS, (bucket.lines, bucket.errors, bucket.new), strict=True
                ):
                    out.append(Sample(resource_id=rid, metric=metric, ts=start, value=value))
                emitted = 0 if bucket.lines else emitted + 1
                start += self.bucket_s
            state.first_open = start
        return out

    def snapshot(self, resource_ids: Iterable[str]) -> tuple[float, dict[str, _Resource | None]]:
        return self.clock, {r: copy.deepcopy(self._resources.get(r)) for r in resource_ids}

    def restore(self, snap: tuple[float, dict[str, _Resource | None]]) -> None:
        self.clock, states = snap
        for rid, state in states.items():
            if state is None:
                self._resources.pop(rid, None)
            else:
                self._resources[rid] = state


def surprise_calibrator(settings: LogSettings) -> ExponentialCalibrator:
    """Surprise (decades of rarity) -> score in [0, 1]: 0 up to the onset, then saturating.

    With the defaults (onset 2, scale 1.5) a template of one line in 440 is MEDIUM (0.35), one
    in 3,700 HIGH (0.65) and one in 70,000 CRITICAL (0.85).
    """
    return ExponentialCalibrator(onset=settings.surprise_onset, scale=settings.surprise_scale)


class LogPipeline:
    """drain3 templates shared by every resource, template counts per resource, log buckets.

    Thread-safe: one lock orders batches, so scores follow arrival order.
    """

    def __init__(self, settings: LogSettings | None = None) -> None:
        self.settings = cfg = settings or LogSettings()
        self.parser = TemplateParser(
            sim_threshold=cfg.sim_threshold,
            depth=cfg.depth,
            max_children=cfg.max_children,
            max_templates=cfg.max_templates,
        )
        self.streams: dict[str, TemplateStats] = {ALL: TemplateStats()}
        self.buckets = LogBuckets(cfg.bucket_s, cfg.grace_s, cfg.max_gap_buckets)
        self._calibrate = surprise_calibrator(cfg)
        self._lock = threading.RLock()
        self._undo: list[tuple[str, int]] | None = None

    @property
    def lock(self) -> threading.RLock:
        """Held by every method; a caller holds it too to keep a batch and its sequel together."""
        return self._lock

    @property
    def threshold(self) -> float:
        return self.settings.anomaly_threshold

    def _learn(self, message: str, level: str, stream: str) -> tuple[int, str, float, bool]:
        parsed = self.parser.add(message)
        tid = parsed.template_id
        assert tid is not None  # `add` always names a template
        stats = self.streams.get(stream)
        if stats is None:
            stats = self.streams[stream] = TemplateStats()
        new = stats.count(tid) == 0
        surprise = stats.surprise(tid) + (self.settings.error_boost if level in ERROR_LEVELS else 0)
        stats.add(tid)
        touched = [stream] if stream == ALL else [stream, ALL]
        if stream != ALL:
            self.streams[ALL].add(tid)
        if self._undo is not None:
            self._undo.extend((s, tid) for s in touched)
        return tid, parsed.template, surprise, new

    def learn_lines(self, lines: Iterable[str]) -> int:
        """Learn raw lines into the shared model (a bootstrap file); returns how many."""
        n = 0
        with self._lock:
            for line in lines:
                self._learn(line.rstrip("\r\n"), infer_level(line), ALL)
                n += 1
            self._prune()
        return n

    def score_stream(self, lines: Sequence[LogLine]) -> list[ScoredLine]:
        """Score each line against its resource's history (`ALL`: every line), then learn it."""
        with self._lock:
            surprises: list[float] = []
            parts: list[tuple[LogLine, str, int, str, bool]] = []
            for line in lines:
                level = _level_of(line.level, line.message)
                tid, template, surprise, new = self._learn(line.message, level, line.resource_id)
                surprises.append(surprise)
                parts.append((line, level, tid, template, new))
            scores = self._scores(surprises)
            if self._undo is None:  # inside a transaction, pruning waits for the commit
                self._prune()
            return [
                ScoredLine(
                    ts=line.ts,
                    resource_id=line.resource_id,
                    message=line.message,
                    level=level,
                    template_id=tid,
                    template=template,
                    surprise=round(s, 4),
                    score=score,
                    new_template=new,
                )
                for (line, level, tid, template, new), s, score in zip(
                    parts, surprises, scores, strict=True
                )
            ]

    def process(self, lines: Sequence[LogLine]) -> LogBatchResult:
        """`score_stream`, then count the lines in their resources' buckets and close buckets."""
        with self._lock:
            scored = self.score_stream(lines)
            for line in scored:
                self.buckets.add(
                    line.resource_id,
                    line.ts,
                    error=line.level in ERROR_LEVELS,
                    new=line.new_template,
                )
            return LogBatchResult(lines=scored, samples=self.buckets.close())

    @contextmanager
    def transaction(self, resource_ids: Iterable[str]) -> Iterator[LogPipeline]:
        """Hold the pipeline for one batch; on an exception undo its counts and buckets.

        drain3's templates are not rolled back (a refused line may have widened one); the
        counts that drive the scores and the log metrics are.
        """
        with self._lock:
            snap = self.buckets.snapshot(resource_ids)
            self._undo = []
            try:
                yield self
            except BaseException:
                for stream, tid in reversed(self._undo):
                    self.streams[stream].remove(tid)
                self.buckets.restore(snap)
                raise
            finally:
                self._undo = None
            self._prune()

    def predict(self, lines: Sequence[str]) -> list[ScoredLine]:
        """Score raw lines against everything learned, changing nothing (ts 0, no resource)."""
        with self._lock:
            stats = self.streams[ALL]
            rows = []
            for message in lines:
                level = infer_level(message)
                parsed = self.parser.match(message)
                boost = self.settings.error_boost if level in ERROR_LEVELS else 0.0
                rows.append((message, level, parsed, stats.surprise(parsed.template_id) + boost))
            scores = self._scores([r[3] for r in rows])
            return [
                ScoredLine(
                    ts=0.0,
                    resource_id="",
                    message=message,
                    level=level,
                    template_id=parsed.template_id,
                    template=parsed.template,
                    surprise=round(surprise, 4),
                    score=score,
                    new_template=stats.count(parsed.template_id) == 0,
                )
                for (message, level, parsed, surprise), score in zip(rows, scores, strict=True)
            ]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "templates": len(self.parser),
                "lines": self.streams[ALL].lines,
                "resources": len(self.streams) - 1,
            }

    def _scores(self, surprise: Sequence[float]) -> list[float]:
        raw = np.asarray(surprise, dtype=np.float64)
        return [round(s, 6) for s in self._calibrate(raw).tolist()]

    def _prune(self) -> None:
        # drain3 forgets the least recently seen templates beyond max_templates: so do we, in
        # rounds (a tenth over), so that the cost is not paid on every batch.
        if len(self.streams[ALL].counts) > 1.1 * len(self.parser) + 10:
            alive = self.parser.alive()
            for stats in self.streams.values():
                stats.keep_only(alive)


def _level_of(given: str | None, message: str) -> str:
    if given is not None:
        level = normalise_level(given)
        if level is not None:
            return level
    return infer_level(message)


def score_lines(
    lines: Iterable[str],
    settings: LogSettings | None = None,
    *,
    train: Iterable[str] = (),
    batch: int = 1000,
) -> Iterator[ScoredLine]:
    """Score every line of a log in order, each before learning it (after learning `train`)."""
    pipeline = LogPipeline(settings)
    pipeline.learn_lines(train)
    chunk: list[LogLine] = []
    for line in lines:
        chunk.append(LogLine(ts=0.0, resource_id=ALL, message=line.rstrip("\r\n")))
        if len(chunk) >= batch:
            yield from pipeline.score_stream(chunk)
            chunk = []
    if chunk:
        yield from pipeline.score_stream(chunk)


def bootstrapped_pipeline(settings: LogSettings) -> LogPipeline:
    """A pipeline with the configured bootstrap file learned, so /predict/log knows its
    templates from the start; what the process ingests afterwards is learned as it comes."""
    pipeline = LogPipeline(settings)
    path = settings.bootstrap_file
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"logs.bootstrap_file {str(path)!r} does not exist")
        with path.open(encoding="utf-8", errors="replace") as lines:
            pipeline.learn_lines(lines)
    return pipeline
