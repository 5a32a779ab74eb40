"""Detection over recorded data: score every row of a table, or backtest the live decision path.

Both replay rows in time order through streaming detectors, so a row's score never depends on
later rows; `score_table` can first learn from a training table (no labels are read).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Anomaly
from opsgraph.core.table import Table
from opsgraph.detect.base import FloatArray
from opsgraph.detect.calibrate import surprise_of, surprise_score
from opsgraph.detect.ensemble import CalibratedEnsemble, RepeatDamper
from opsgraph.detect.members import (
    DEFAULT_MEMBERS,
    TAIL_LEVEL,
    Member,
    create_members,
    format_members,
    parse_members,
)
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import build_ingestor
from opsgraph.models.multivariate import MultivariateEnsemble

#: The ensemble used for files: the best NAB configuration so far (docs/benchmarks.md).
FILE_MEMBERS = DEFAULT_MEMBERS
#: Multivariate models fitted on TRAIN (docs/benchmarks.md: they add to the streaming ones).
#: The model `detect score --train` fits by default: the PCA residual over signals and their
#: changes (ASD VUS-PR 0.631 against 0.207 for ECOD + Isolation Forest beside the streaming
#: members, docs/benchmarks.md).
FILE_MULTIVARIATE = ("pca",)
_NEEDS_TIME = {"seasonal"}


def build_ensemble(members: list[Member], *, level: float = TAIL_LEVEL) -> CalibratedEnsemble:
    return CalibratedEnsemble(create_members(members), level=level)


@dataclass(slots=True)
class ScoredTable:
    """Per row the anomaly score, per row and signal the probabilities that explain it, and
    notes for the operator (drift of the fitted models)."""

    scores: FloatArray
    per_signal: FloatArray
    notes: list[str] = field(default_factory=list)


def score_table(
    test: Table,
    train: Table | None = None,
    *,
    members: str = FILE_MEMBERS,
    dedup_rows: int = 0,
    multivariate: Sequence[str] = FILE_MULTIVARIATE,
) -> ScoredTable:
    """Per test row: the anomaly score in [0, 1] and the per-signal probabilities [rows,
    signals] that explain it.

    With a training table and `multivariate` models (the default), the models fitted on it
    decide: the score is their calibrated probability, and each signal's share of it comes
    from their attribution. Otherwise (no training table, or `multivariate` empty) each
    signal is scored by the live path for the ensemble of `members` (as `serve` scores it
    by default: surprise / 10, 0.4 is one point in 10^4 for that signal), warmed on the
    training rows when there are some, and the row's score is the
    largest of its signals'."""
    parsed = parse_members(members)
    if test.ts is None:
        timeless = [n for n, _, _ in parsed if n in _NEEDS_TIME]
        if timeless and members != FILE_MEMBERS:
            raise InvalidInputError("members", f"{', '.join(timeless)} needs a timestamp column")
        parsed = [m for m in parsed if m[0] not in _NEEDS_TIME]
    if train is not None:
        missing = [c for c in test.columns if c not in train.columns]
        if missing:
            raise InvalidInputError("train", f"has no column {', '.join(missing)} of the test file")
        if (train.ts is None) != (test.ts is None):
            raise InvalidInputError("train", "both files need a timestamp column, or neither")
    if train is not None and multivariate:
        return _score_fitted(test, train, multivariate, dedup_rows)
    # The live scoring path: the Ingestor `serve` builds for the ensemble of these members
    # (detector, per-series calibration, knobs by metric name), one series per column.
    settings = DetectSettings(detector="ensemble", params={"members": format_members(parsed)})
    ingestor = build_ingestor(settings, store=None, persist_samples=False)
    keys = _column_keys(test.columns)
    idx = ingestor.series_index(keys)
    step = 60.0  # rows without time are taken one minute apart
    if train is not None:
        cols = [train.columns.index(c) for c in test.columns]
        for i, row in enumerate(train.values[:, cols]):
            ingestor.ingest_columns(keys, train.ts[i] if train.ts is not None else i * step, row)
    offset = 0 if train is None else train.values.shape[0]
    damper = RepeatDamper(rows=dedup_rows) if dedup_rows > 0 else None
    if damper is not None:
        damper.reserve(1)
    per_signal = np.zeros(test.values.shape)
    scores = np.zeros(test.values.shape[0])
    for i, row in enumerate(test.values):
        ts = test.ts[i] if test.ts is not None else (offset + i) * step
        ingestor.ingest_columns(keys, ts, row)
        # A gap keeps its series' previous score in the Ingestor: here it scores 0.
        score = np.where(np.isfinite(row), ingestor.latest_score[idx], 0.0)
        per_signal[i] = score
        top = np.array([score.max(initial=0.0)])
        scores[i] = (damper(np.zeros(1, np.int64), top) if damper is not None else top)[0]
    return ScoredTable(scores, per_signal)


def _column_keys(columns: Sequence[str], resource: str = "file") -> list[tuple[str, str]]:
    """(resource, metric) of each column: long tables name columns resource/metric; a wide
    table is one resource."""
    keys = []
    for column in columns:
        owner, _, metric = column.rpartition("/")
        keys.append((owner or resource, _metric_name(metric)))
    return keys


def _score_fitted(
    test: Table, train: Table, multivariate: Sequence[str], dedup_rows: int
) -> ScoredTable:
    """The models fitted on the training rows score the test rows; a signal's probability is
    its share of the row's probability."""
    model = MultivariateEnsemble(list(multivariate))
    model.fit(train.values[:, [train.columns.index(c) for c in test.columns]])
    joint, _ = model.score(test.values)
    # On the live scale: surprise / 10, so 0.9 means one row in 10^9 for this model, not the
    # top tenth of normal rows that a probability of 0.9 would be.
    scores = surprise_score(surprise_of(1.0 - np.asarray(joint, dtype=np.float64)))
    if dedup_rows > 0:
        damper = RepeatDamper(rows=dedup_rows)
        damper.reserve(1)
        scores = np.array([damper(np.zeros(1, np.int64), np.array([v]))[0] for v in scores])
    per_signal = model.attribution(test.values) * scores[:, None]
    return ScoredTable(scores, per_signal, model.drift_notes(test.values))


def _metric_name(column: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_:.]", "_", column.strip()) or "value"
    return name if re.match(r"[A-Za-z_]", name) else f"m_{name}"


@dataclass(slots=True)
class BacktestReport:
    rows: int
    series: int
    start_ts: float | None
    end_ts: float | None
    alerts: list[Anomaly] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        days = max(((self.end_ts or 0) - (self.start_ts or 0)) / 86_400, 1e-9)
        by_severity = Counter(a.severity.value for a in self.alerts)
        return {
            "rows": self.rows,
            "series": self.series,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "alerts": len(self.alerts),
            "by_severity": dict(sorted(by_severity.items())),
            "alerts_per_series_day": round(len(self.alerts) / max(self.series, 1) / days, 4)
            if self.start_ts is not None
            else None,
        }


def backtest(
    table: Table,
    settings: DetectSettings,
    *,
    detector: str | None = None,
    resource: str = "file",
) -> BacktestReport:
    """Replay a table through the live decision path (detector, calibrator, knobs, episodes)
    and collect every anomaly it would have opened."""
    ingestor = build_ingestor(settings, store=None, detector=detector)
    keys = _column_keys(table.columns, resource)
    alerts: dict[int, Anomaly] = {}
    for i, row in enumerate(table.values):
        ts = float(table.ts[i]) if table.ts is not None else i * 60.0
        for anomaly in ingestor.ingest_columns(keys, ts, row).opened:
            alerts[id(anomaly)] = anomaly
    ordered = sorted(alerts.values(), key=lambda a: (a.start_ts, a.resource_id, a.metric))
    ts_all = table.ts if table.ts is not None else np.arange(table.values.shape[0]) * 60.0
    return BacktestReport(
        rows=table.values.shape[0],
        series=len(table.columns),
        start_ts=float(ts_all[0]) if len(ts_all) else None,
        end_ts=float(ts_all[-1]) if len(ts_all) else None,
        alerts=ordered,
    )
