"""Ingest: samples into the store and the recent windows, scored by the detector on the way.

One path for every source: simulator frames (columnar numpy) and pushed samples (validated).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import (
    Anomaly,
    CalendarEvent,
    Feedback,
    FeedbackVerdict,
    MaintenanceWindow,
    Resource,
    Sample,
    SampleColumns,
    SampleFrame,
    Severity,
)
from opsgraph.detect.base import Calibrator, FloatArray, IndexArray, StreamingDetector
from opsgraph.detect.calendar import CalendarIndex, explained
from opsgraph.detect.calibrate import (
    ExponentialCalibrator,
    FixedMap,
    SeriesCalibrator,
    SurpriseMap,
    TailMap,
    as_series_calibrator,
)
from opsgraph.detect.decision import Decisions, EpisodeTracker, decide_run
from opsgraph.detect.knobs import KnobFilter, Knobs
from opsgraph.detect.registry import create_detector
from opsgraph.detect.settings import DetectSettings
from opsgraph.store import Store

#: A false positive lifts its series' threshold this far above the anomaly's peak score.
FEEDBACK_MARGIN = 0.05


@dataclass(slots=True)
class NodeState:
    score: float
    severity: Severity | None
    anomalous: bool


#: A series with fewer points than this in one batch is never scored as a run (`_take_runs`).
RUN_MIN = 64
#: Rough costs on one core (seconds) that choose between rounds and runs: a round of the
#: batch, a point of a run (its decision), and a run. Speed only: both give the same result.
_ROUND_S, _RUN_POINT_S, _RUN_S = 3e-4, 1e-6, 5e-4


def _run_series(counts: npt.NDArray[np.int64]) -> list[int]:
    """The series to score as runs: the deepest ones, as many as make the batch cheapest. A
    batch goes in as many rounds as its deepest remaining series has points, so one series of
    95,000 points is a run, while 1,000 series of 95 points each stay 95 wide rounds."""
    order = np.argsort(counts)[::-1]
    deep = counts[order]
    k_max = int(np.count_nonzero(deep >= RUN_MIN))
    if not k_max:
        return []
    rest = np.r_[deep[1:], 0][: k_max + 1]  # rounds left after taking the top k (k = 1..)
    taken = np.cumsum(deep[:k_max] * _RUN_POINT_S + _RUN_S)
    cost = np.r_[deep[0] * _ROUND_S, rest[:k_max] * _ROUND_S + taken]
    k = int(np.argmin(cost))
    return [int(s) for s in order[:k]]


@dataclass(slots=True)
class IngestResult:
    """What one batch did: samples taken, anomalies opened / updated / closed, nodes changed."""

    samples: int = 0
    ts: float | None = None
    opened: list[Anomaly] = field(default_factory=list)
    updated: list[Anomaly] = field(default_factory=list)
    closed: list[Anomaly] = field(default_factory=list)
    changed_nodes: dict[str, NodeState] = field(default_factory=dict)


class Ingestor:
    """Keeps the series registry, the latest value and score of each series, and node states."""

    def __init__(
        self,
        *,
        store: Store | None,
        detector: StreamingDetector,
        calibrator: Calibrator | SeriesCalibrator,
        tracker: EpisodeTracker,
        knobs: KnobFilter | None = None,
        persist_samples: bool = True,
        calendar_metrics: Iterable[str] = (),
        severity_map: Calibrator | None = None,
    ) -> None:
        self.store = store
        #: Maps a detector's `magnitude()` (a robust z) to the score scale of severity; None
        #: (or a detector without magnitude) leaves severity to the score.
        self.severity_map = severity_map
        self.detector = detector
        self.calibrator = as_series_calibrator(calibrator)
        self.tracker = tracker
        self.knobs = knobs
        self.persist_samples = persist_samples
        self.calendar = CalendarIndex()
        self._calendar_metrics = frozenset(calendar_metrics)
        self._follows_traffic = np.zeros(0, dtype=np.bool_)
        self._lock = threading.Lock()
        self.resources: dict[str, Resource] = {}
        self.keys: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}
        self._db_ids = np.zeros(0, dtype=np.int64)
        self._node_series: dict[str, list[int]] = {}
        self._resource_code: dict[str, int] = {}
        self._series_resource = np.zeros(0, dtype=np.int64)
        self._maintenance: list[tuple[npt.NDArray[np.int64], float, float]] = []
        self.latest = np.zeros(0)
        self.latest_score = np.zeros(0)
        self.latest_ts: float | None = None
        self._frame_keys: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[str, str]]] = {}
        self._column_cache: dict[tuple[tuple[str, str], ...], IndexArray] = {}
        self._node_states: dict[str, NodeState] = {}
        self._anomalous_nodes: set[str] = set()  # the nodes whose state is anomalous
        self._next_local_id = 1
        self.samples_total = 0  # samples scored since start, every source (for /metrics)
        self.batches_total = 0

    # -- registry -------------------------------------------------------------------------
    def add_resources(self, resources: Iterable[Resource]) -> None:
        with self._lock:
            for resource in resources:
                self.resources[resource.id] = resource

    def series_index(self, keys: Sequence[tuple[str, str]]) -> IndexArray:
        """Dense indices of the series, registering (and storing) the new ones."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._index]
        if missing:
            db_ids = (
                self.store.ensure_series(missing)
                if self.store is not None
                else list(range(len(self.keys) + 1, len(self.keys) + 1 + len(missing)))
            )
            start = len(self.keys)
            for offset, key in enumerate(missing):
                self._index[key] = start + offset
                self.keys.append(key)
                self._node_series.setdefault(key[0], []).append(start + offset)
            n = len(self.keys)
            codes = [
                self._resource_code.setdefault(r, len(self._resource_code)) for r, _ in missing
            ]
            self._series_resource = np.concatenate(
                [self._series_resource, np.asarray(codes, dtype=np.int64)]
            )
            self._db_ids = np.concatenate([self._db_ids, np.asarray(db_ids, dtype=np.int64)])
            self._follows_traffic = np.concatenate(
                [self._follows_traffic, [m in self._calendar_metrics for _, m in missing]]
            )
            self.latest = np.concatenate([self.latest, np.full(n - start, np.nan)])
            self.latest_score = np.concatenate([self.latest_score, np.zeros(n - start)])
            self.detector.reserve(n)
            self.calibrator.reserve(n)
            self.tracker.reserve(n)
            if self.knobs is not None:
                self.knobs.add_series([metric for _, metric in missing])
        return np.fromiter((self._index[k] for k in keys), dtype=np.int64, count=len(keys))

    # -- ingest ---------------------------------------------------------------------------
    def ingest_frame(self, frame: SampleFrame) -> IngestResult:
        """Score and store a frame of many resources at one timestamp (the simulator's path)."""
        cache_key = (frame.resource_ids, frame.metrics)
        keys = self._frame_keys.get(cache_key)
        if keys is None:
            keys = [(r, m) for r in frame.resource_ids for m in frame.metrics]
            self._frame_keys = {cache_key: keys}
        return self.ingest_columns(keys, frame.ts, frame.values.reshape(-1))

    def ingest_columns(
        self, keys: Sequence[tuple[str, str]], ts: float | FloatArray, values: FloatArray
    ) -> IngestResult:
        """Score and store one value per (resource, metric) key, at one timestamp or at one
        per key (each key at most once); NaN is a gap."""
        with self._lock:
            key_tuple = tuple(keys)
            idx = self._column_cache.get(key_tuple)
            if idx is None:
                idx = self.series_index(keys)
                self._column_cache = {key_tuple: idx}
            stamps = np.broadcast_to(np.asarray(ts, dtype=np.float64), idx.shape)
            present = np.isfinite(values)
            if not present.all():
                idx, values, stamps = idx[present], values[present], stamps[present]
            last = float(stamps.max()) if stamps.shape[0] else float(np.max(ts))
            return self._process([(np.array(stamps), idx, values)], last)

    def ingest_samples(self, samples: Sequence[Sample]) -> IngestResult:
        """Score and store pushed samples: all or nothing, unknown resources refused."""
        return self.ingest_arrays(SampleColumns.from_samples(samples))

    def ingest_arrays(self, columns: SampleColumns, *, where: str = "samples") -> IngestResult:
        """Score and store samples given as columns, in time order: all or nothing. An unknown
        resource or a non-finite value is refused naming the first sample at fault
        (`samples[i].resource_id`)."""
        keys, series, ts, values = columns.keys, columns.series, columns.ts, columns.values
        with self._lock:
            for k, (resource_id, _) in enumerate(keys):
                if resource_id not in self.resources:
                    i = int(np.flatnonzero(series == k)[0])
                    raise InvalidInputError(
                        f"{where}[{i}].resource_id", f"unknown resource {resource_id!r}"
                    )
            bad = ~(np.isfinite(ts) & np.isfinite(values))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                name = "ts" if not np.isfinite(ts[i]) else "value"
                raise InvalidInputError(f"{where}[{i}].{name}", "must be a finite number")
            n = series.shape[0]
            if not n:
                return IngestResult()
            idx_all = self.series_index(keys)[series]
            order = np.argsort(ts, kind="stable")
            idx_all, ts_all, val_all = idx_all[order], ts[order], values[order]
            last = float(ts_all.max())
            runs = self._take_runs(idx_all, ts_all, val_all)
            if runs:
                rest = ~np.isin(idx_all, [r[1][0] for r in runs])
                idx_all, ts_all, val_all = idx_all[rest], ts_all[rest], val_all[rest]
                n = idx_all.shape[0]
            # A detector batch holds each series once: the r-th point of every series (in time
            # order) goes to round r.
            grouped = np.lexsort((np.arange(n), idx_all))
            sorted_idx = idx_all[grouped]
            first = np.r_[True, sorted_idx[1:] != sorted_idx[:-1]]
            start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
            rounds = np.empty(n, dtype=np.int64)
            rounds[grouped] = np.arange(n) - start
            by_round = np.argsort(rounds, kind="stable")
            bounds = np.cumsum(np.bincount(rounds))[:-1]
            batches = [
                (ts_all[sel], idx_all[sel], val_all[sel])
                for sel in (np.split(by_round, bounds) if n else [])
            ]
            return self._process(batches, last, runs)

    def _take_runs(
        self, idx: IndexArray, ts: FloatArray, values: FloatArray
    ) -> list[tuple[FloatArray, IndexArray, FloatArray]]:
        """The deep series of this batch (`_run_series`), each as one time-ordered run, when
        the detector can score a run in one pass (`score_run`) and nothing stateful stands
        between it and the decision; the rest go round by round."""
        if not hasattr(self.detector, "score_run") or not isinstance(self.calibrator, FixedMap):
            return []
        runs = []
        for s in _run_series(np.bincount(idx)):
            sel = idx == s
            run_ts = ts[sel]
            reshaped = len(self.calendar) and self._follows_traffic[s]
            if reshaped and (np.asarray(self.calendar.multiplier(run_ts)) != 1.0).any():
                continue  # an event reshapes what is scored there: point by point
            runs.append((run_ts, idx[sel], values[sel]))
        return runs

    def _score_run(
        self, ts: FloatArray, idx: IndexArray, values: FloatArray, into: Decisions
    ) -> None:
        """One series' run: scored and learnt in one pass, then decided (`decide_run`)."""
        series = int(idx[0])
        raw, expected = self.detector.score_run(series, values, ts)  # type: ignore[attr-defined]
        scores = self.calibrator(idx, raw)
        if self.knobs is not None:
            scores = self.knobs.apply_run(series, values, expected, scores)
        if self._maintenance:
            scores = np.where(self._muted(idx, ts), 0.0, scores)
        into.extend(
            decide_run(
                self.tracker,
                ts=ts,
                idx=idx,
                values=values,
                expected=expected,
                scores=scores,
                keys=self.keys,
            )
        )
        self.calibrator.learn(idx, raw)
        self.latest[series] = values[-1]
        self.latest_score[series] = scores[-1]

    def _severity(self) -> FloatArray | None:
        """Severity on the score scale from the last scored points' distance from normal,
        when the detector reports one (`magnitude`) and a map is set."""
        magnitude = getattr(self.detector, "magnitude", None)
        if self.severity_map is None or magnitude is None:
            return None
        z = magnitude()
        return None if z is None else self.severity_map(z)

    def _process(
        self,
        batches: list[tuple[FloatArray, IndexArray, FloatArray]],
        last_ts: float,
        runs: Sequence[tuple[FloatArray, IndexArray, FloatArray]] = (),
    ) -> IngestResult:
        merged = Decisions()
        for run_ts, run_idx, run_values in runs:
            self._score_run(run_ts, run_idx, run_values, merged)
        for ts, idx, values in batches:
            raw, expected = self.detector.score(idx, values, ts)
            seen, shown, learned = values, expected, values
            if len(self.calendar):
                factor = np.where(self._follows_traffic[idx], self.calendar.multiplier(ts), 1.0)
                if (factor != 1.0).any():
                    # Score what the event does not explain, against the event's expectation;
                    # learn the value without the event, so the baseline follows the day.
                    seen = explained(values, expected, factor)
                    raw, expected = self.detector.score(idx, seen, ts)
                    shown = expected * factor
                    learned = values / factor
            scores = self.calibrator(idx, raw)
            if self.knobs is not None:
                scores = self.knobs.apply(idx, seen, expected, scores)
            if self._maintenance:
                scores = np.where(self._muted(idx, ts), 0.0, scores)
            decided = self.tracker.decide(
                ts=ts,
                idx=idx,
                values=values,
                expected=shown,
                scores=scores,
                keys=self.keys,
                severity=self._severity(),
            )
            self.detector.learn(idx, learned, ts=ts)
            self.calibrator.learn(idx, raw)
            self.latest[idx] = values
            self.latest_score[idx] = scores
            merged.extend(decided)
        # Across rounds one episode may be opened, updated and closed: write each once.
        skip = {id(a) for a in merged.opened + merged.closed}
        merged.updated = list({id(a): a for a in merged.updated if id(a) not in skip}.values())
        taken = [*batches, *runs]  # rounds and runs are stored and counted alike
        self._persist(taken, merged)
        self.latest_ts = last_ts if self.latest_ts is None else max(self.latest_ts, last_ts)
        n = sum(b[1].shape[0] for b in taken)
        self.samples_total += n
        self.batches_total += 1
        return IngestResult(
            samples=n,
            ts=last_ts,
            opened=merged.opened,
            updated=merged.updated,
            closed=merged.closed,
            changed_nodes=self._refresh_nodes(),
        )

    def _persist(
        self, batches: list[tuple[FloatArray, IndexArray, FloatArray]], decided: Decisions
    ) -> None:
        if self.store is None:
            for anomaly in decided.opened:
                anomaly.id = self._next_local_id
                self._next_local_id += 1
            return
        if self.persist_samples:
            idx = np.concatenate([b[1] for b in batches])
            ts = np.concatenate([b[0] for b in batches])
            values = np.concatenate([b[2] for b in batches])
        else:
            idx, ts, values = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        stored = self.store.write_batch(
            series_ids=self._db_ids[idx],
            ts=ts,
            values=values,
            new_anomalies=decided.opened,
            # An episode opened in this batch is inserted in its final state; no update needed.
            updated_anomalies=decided.updated
            + [a for a in decided.closed if all(a is not o for o in decided.opened)],
        )
        for mine, theirs in zip(decided.opened, stored, strict=True):
            mine.id = theirs.id

    # -- operator control -----------------------------------------------------------------
    def apply_feedback(self, feedback: Feedback) -> float:
        """Learn from a verdict; returns the series' alert threshold from now on.

        A false positive raises the series' threshold just above the judged anomaly's peak, so
        the same pattern no longer alerts; a confirmation restores the default.
        """
        with self._lock:
            series = int(self.series_index([(feedback.resource_id, feedback.metric)])[0])
            if feedback.verdict is FeedbackVerdict.FALSE_POSITIVE:
                return self.tracker.raise_threshold(series, feedback.score + FEEDBACK_MARGIN)
            self.tracker.reset_threshold(series)
            return self.tracker.threshold_of(series)

    def set_calendar(self, events: Iterable[CalendarEvent]) -> None:
        """Replace the business calendar that detection takes into account."""
        with self._lock:
            self.calendar = CalendarIndex(events)

    def set_maintenance(self, windows: Sequence[MaintenanceWindow]) -> None:
        """Mute the windows' resources while they are active (replaces the previous set)."""
        with self._lock:
            muted = []
            for w in windows:
                codes = [
                    self._resource_code.setdefault(r, len(self._resource_code))
                    for r in w.resource_ids
                ]
                muted.append((np.asarray(codes, dtype=np.int64), w.start_ts, w.end_ts))
            self._maintenance = muted

    def _muted(self, idx: IndexArray, ts: FloatArray) -> npt.NDArray[np.bool_]:
        owner = self._series_resource[idx]
        mask = np.zeros(idx.shape[0], dtype=bool)
        for codes, start, end in self._maintenance:
            mask |= np.isin(owner, codes) & (ts >= start) & (ts < end)
        return mask

    # -- node state -----------------------------------------------------------------------
    def _refresh_nodes(self) -> dict[str, NodeState]:
        """Recompute node states from open episodes; return the nodes whose state changed."""
        worst: dict[str, Severity] = {}
        for anomaly in self.tracker.open.values():
            prev = worst.get(anomaly.resource_id)
            if prev is None or anomaly.severity.rank > prev.rank:
                worst[anomaly.resource_id] = anomaly.severity
        changed: dict[str, NodeState] = {}
        for node in set(worst) | self._anomalous_nodes:
            severity = worst.get(node)
            state = NodeState(
                score=self.node_score(node), severity=severity, anomalous=bool(severity)
            )
            old = self._node_states.get(node)
            if old is None or old.severity != state.severity:
                changed[node] = state
            self._node_states[node] = state
            if state.anomalous:
                self._anomalous_nodes.add(node)
            else:
                self._anomalous_nodes.discard(node)
        return changed

    def node_score(self, node: str) -> float:
        series = self._node_series.get(node)
        return float(self.latest_score[series].max()) if series else 0.0

    def snapshot(self) -> dict[str, tuple[dict[str, float], float, NodeState]]:
        """Per node: latest metric values, max latest score and state (for /graph)."""
        with self._lock:
            metrics: dict[str, dict[str, float]] = {}
            score: dict[str, float] = {}
            for i, (node, metric) in enumerate(self.keys):
                value = float(self.latest[i])
                if value == value:  # not NaN
                    metrics.setdefault(node, {})[metric] = value
                score[node] = max(score.get(node, 0.0), float(self.latest_score[i]))
            out = {}
            for node in self.resources.keys() | metrics.keys():
                state = self._node_states.get(node) or NodeState(0.0, None, False)
                s = score.get(node, 0.0)
                out[node] = (metrics.get(node, {}), s, state)
            return out


def knob_filter(settings: DetectSettings) -> KnobFilter:
    """The decision step's false-positive knobs, from configuration."""
    return KnobFilter(
        Knobs(**settings.knobs.model_dump()),
        {m: Knobs(**k.model_dump()) for m, k in settings.per_metric.items()},
    )


def calibrator_for(detector: StreamingDetector, settings: DetectSettings) -> SeriesCalibrator:
    """A detector that reports surprise keeps its own calibration; any other is calibrated per
    series by its tail (`tail`), or through the fixed exponential map (`exponential`)."""
    if getattr(detector, "reports_surprise", False):
        return SurpriseMap()
    if settings.calibration == "exponential":
        return FixedMap(ExponentialCalibrator(onset=settings.z_onset, scale=settings.z_scale))
    return TailMap()


def build_ingestor(
    settings: DetectSettings,
    *,
    store: Store | None,
    persist_samples: bool = True,
    detector: str | None = None,
) -> Ingestor:
    """The configured detection path: detector -> calibrator -> knobs -> episodes."""
    name = detector or settings.detector
    det = create_detector(
        name,
        settings.params if name == settings.detector else None,
        defaults={
            "window": settings.window,
            "min_points": min(settings.min_points, settings.window),
        },
    )
    ingestor = Ingestor(
        store=store,
        detector=det,
        calibrator=calibrator_for(det, settings),
        tracker=EpisodeTracker(
            threshold=settings.alert_threshold,
            close_after=settings.close_after_steps,
            open_after=settings.open_after_points,
            rest_points=settings.rest_points,
            rest_fraction=settings.rest_fraction,
            rest_break=settings.rest_break,
            detector=det.name,
        ),
        knobs=knob_filter(settings),
        persist_samples=persist_samples,
        calendar_metrics=settings.calendar_metrics,
        severity_map=ExponentialCalibrator(onset=settings.z_onset, scale=settings.z_scale),
    )
    ingestor.set_calendar(settings.calendar)
    return ingestor
