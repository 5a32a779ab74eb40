"""Ingest: frames and pushed samples take the same path through detection into the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import AnomalyStatus, Resource, Sample, SampleColumns, SampleFrame
from opsgraph.detect import EpisodeTracker, ExponentialCalibrator, RobustZDetector
from opsgraph.ingest.stream import Ingestor
from opsgraph.store import Store


def _ingestor(store: Store | None) -> Ingestor:
    ing = Ingestor(
        store=store,
        detector=RobustZDetector(window=20, min_points=10),
        calibrator=ExponentialCalibrator(),
        tracker=EpisodeTracker(threshold=0.35, close_after=2, detector="robust_z"),
    )
    resources = [Resource(id=f"n{i}") for i in range(3)]
    if store is not None:
        store.upsert_topology(resources, [])
    ing.add_resources(resources)
    return ing


def _frames(n: int, spike_at: int | None = None) -> list[SampleFrame]:
    rng = np.random.default_rng(0)
    out = []
    for t in range(n):
        values = rng.normal(50, 1, size=(3, 2))
        if spike_at is not None and spike_at <= t < spike_at + 3:
            values[1, 0] = 99.0
        out.append(SampleFrame(float(t * 60), ("n0", "n1", "n2"), ("cpu", "latency_ms"), values))
    return out


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path}/t.db")
    s.migrate()
    yield s  # type: ignore[misc]
    s.close()


def test_a_spike_opens_updates_and_closes_one_episode(store: Store) -> None:
    ing = _ingestor(store)
    opened, closed = [], []
    for frame in _frames(40, spike_at=25):
        result = ing.ingest_frame(frame)
        opened += result.opened
        closed += result.closed
    assert [(a.resource_id, a.metric) for a in opened] == [("n1", "cpu")]
    assert len(closed) == 1
    stored = store.get_anomaly(opened[0].id or 0)
    assert stored.status is AnomalyStatus.RESOLVED
    assert stored.start_ts == 25 * 60 and stored.end_ts == 27 * 60
    assert stored.value == 99.0 and abs(stored.expected - 50) < 2
    assert store.counts()["samples"] == 40 * 6


def test_node_state_follows_open_episodes(store: Store) -> None:
    ing = _ingestor(store)
    changes = []
    for frame in _frames(35, spike_at=25):
        changes.append(ing.ingest_frame(frame).changed_nodes)
    became = [c for c in changes if "n1" in c]
    assert len(became) == 2  # anomalous, then healthy again
    assert became[0]["n1"].anomalous and not became[1]["n1"].anomalous
    snap = ing.snapshot()
    assert set(snap) == {"n0", "n1", "n2"}
    assert set(snap["n0"][0]) == {"cpu", "latency_ms"}


def test_gaps_are_neither_stored_nor_scored(store: Store) -> None:
    ing = _ingestor(store)
    frame = _frames(1)[0]
    values = frame.values.copy()
    values[0, 0] = np.nan
    result = ing.ingest_frame(SampleFrame(frame.ts, frame.resource_ids, frame.metrics, values))
    assert result.samples == 5 and store.counts()["samples"] == 5


def test_pushed_samples_repeat_series_in_time_order() -> None:
    ing = _ingestor(None)
    samples = [
        Sample(resource_id="n0", metric="cpu", ts=float(t), value=50.0 + t % 2)
        for t in reversed(range(30))
    ]
    samples.append(Sample(resource_id="n0", metric="cpu", ts=30.0, value=500.0))
    result = ing.ingest_samples(samples)
    assert result.samples == 31
    assert [a.start_ts for a in result.opened] == [30.0]
    assert result.opened[0].id == 1


def test_unknown_resource_changes_nothing(store: Store) -> None:
    ing = _ingestor(store)
    with pytest.raises(InvalidInputError) as info:
        ing.ingest_samples(
            [
                Sample(resource_id="n0", metric="cpu", ts=1, value=1),
                Sample(resource_id="ghost", metric="cpu", ts=1, value=1),
            ]
        )
    assert info.value.field == "samples[1].resource_id"
    assert store.counts()["samples"] == 0 and ing.keys == []


def test_columns_and_samples_give_the_same_result(store: Store) -> None:
    """Interleaved series with repeats, out of order: columns (the bulk path) and validated
    samples take the same rounds and store the same points."""
    rng = np.random.default_rng(4)
    points = [
        Sample(resource_id=f"n{k % 3}", metric="cpu", ts=float(t), value=float(rng.normal(50, 1)))
        for t in range(40)
        for k in range(3)
    ]
    points.append(Sample(resource_id="n1", metric="cpu", ts=40.0, value=900.0))
    shuffled = [points[i] for i in rng.permutation(len(points))]
    by_samples = _ingestor(None).ingest_samples(shuffled)
    columns = SampleColumns.from_samples(shuffled)
    assert columns.to_samples() == shuffled
    ing = _ingestor(store)
    by_columns = ing.ingest_arrays(columns)
    assert by_columns.samples == by_samples.samples == 121
    assert (
        [(a.resource_id, a.start_ts) for a in by_columns.opened]
        == [(a.resource_id, a.start_ts) for a in by_samples.opened]
        == [("n1", 40.0)]
    )
    assert store.counts()["samples"] == 121


def test_columns_refuse_non_finite_values_naming_the_sample() -> None:
    ing = _ingestor(None)
    columns = SampleColumns(
        keys=[("n0", "cpu")],
        series=np.zeros(3, dtype=np.int64),
        ts=np.array([1.0, 2.0, 3.0]),
        values=np.array([1.0, np.inf, 2.0]),
    )
    with pytest.raises(InvalidInputError) as info:
        ing.ingest_arrays(columns)
    assert info.value.field == "samples[1].value"
    assert ing.keys == []
