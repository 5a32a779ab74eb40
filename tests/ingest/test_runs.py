"""A long history of one series in one batch is scored as a run, with the same result as point
by point, at a cost per point that does not depend on how the batch spreads over series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from opsgraph.core.models import CalendarEvent, Resource, SampleColumns
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import Ingestor, _run_series, build_ingestor

T0 = 1_700_000_000.0


def _ingestor(**detect: Any) -> Ingestor:
    ing = build_ingestor(DetectSettings(**detect), store=None, persist_samples=False)
    ing.add_resources([Resource(id=f"r{i}") for i in range(4)])
    return ing


def _history(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(50, 3, n)
    x[n // 3 : n // 3 + 5] += 60  # an outage-like burst
    x[2 * n // 3 :] += 25  # a level shift
    return x


def _columns(series: dict[tuple[str, str], np.ndarray]) -> SampleColumns:
    keys = list(series)
    ids = np.concatenate([np.full(len(v), k) for k, v in enumerate(series.values())])
    ts = np.concatenate([T0 + 60.0 * np.arange(len(v)) for v in series.values()])
    values = np.concatenate(list(series.values()))
    return SampleColumns(keys=keys, series=ids, ts=ts, values=values)


@pytest.mark.parametrize(
    "detect",
    [
        {},
        {"knobs": {"direction": "up", "warmup_points": 30}},
        {"open_after_points": 1, "rest_points": 20, "rest_fraction": 0.02, "alert_threshold": 0.2},
    ],
)
def test_a_run_decides_as_point_by_point_does(detect: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    series = {("r0", "cpu"): _history(rng, 3000), ("r1", "cpu"): _history(rng, 40)}
    at_once, by_point = _ingestor(**detect), _ingestor(**detect)
    whole = at_once.ingest_arrays(_columns(series))
    assert whole.samples == 3040
    cols = _columns(series)
    order = np.argsort(cols.ts, kind="stable")
    seen: list[Any] = []
    for i in order:  # the same samples, one per call: always round by round
        one = SampleColumns(
            keys=cols.keys,
            series=cols.series[i : i + 1],
            ts=cols.ts[i : i + 1],
            values=cols.values[i : i + 1],
        )
        seen.append(by_point.ingest_arrays(one))
    expected = {(a.resource_id, a.start_ts) for r in seen for a in r.opened}
    assert {(a.resource_id, a.start_ts) for a in whole.opened} == expected
    assert len(expected) >= 2  # the burst and the shift were found
    np.testing.assert_allclose(at_once.latest_score, by_point.latest_score, rtol=1e-12)
    # and afterwards both go on alike
    more = {("r0", "cpu"): np.array([52.0, 140.0, 51.0])}
    later = _columns(more)
    later.ts[:] = T0 + 60.0 * (3000 + np.arange(3))
    np.testing.assert_allclose(
        [a.max_score for a in at_once.ingest_arrays(later).opened],
        [a.max_score for a in by_point.ingest_arrays(later).opened],
    )


def test_a_calendar_event_keeps_a_series_point_by_point() -> None:
    rng = np.random.default_rng(3)
    ing = _ingestor(detector="robust_z", calibration="exponential")  # one that runs
    ing.set_calendar(
        [CalendarEvent(name="sale", start_ts=T0, end_ts=T0 + 3600, multiplier=2.0, kind="sale")]
    )
    cols = _columns({("r0", "request_count"): _history(rng, 500)})
    (series,) = ing.series_index(cols.keys)
    assert ing._take_runs(np.full(500, series), cols.ts, cols.values) == []
    cols_cpu = _columns({("r1", "cpu_steal"): _history(rng, 500)})  # does not follow traffic
    (other,) = ing.series_index(cols_cpu.keys)
    assert len(ing._take_runs(np.full(500, other), cols_cpu.ts, cols_cpu.values)) == 1
    assert ing.ingest_arrays(cols).samples == 500


def test_deep_series_become_runs_and_wide_batches_stay_rounds() -> None:
    assert _run_series(np.array([95_000])) == [0]
    assert _run_series(np.array([95] * 1000)) == []  # 95 wide rounds are cheaper
    assert _run_series(np.array([10, 95_000, 95, 80])) == [1, 2, 3]  # 10 rounds left
    assert _run_series(np.array([63])) == []
