"""The series catalogue of the store: one resource's series with their point counts and time
span, and the series search (metric name, or a set of resources), on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import Resource
from opsgraph.store import Store

T0 = 1_700_000_000.0


def _write(store: Store, key: tuple[str, str], n: int) -> None:
    [sid] = store.ensure_series([key])
    ts = T0 + 60.0 * np.arange(n)
    store.write_batch(series_ids=np.full(n, sid), ts=ts, values=np.arange(n, dtype=float))


def test_a_catalogue_counts_each_series_points(store: Store) -> None:
    store.upsert_topology([Resource(id="web-1", kind="ec2", name="web"), Resource(id="db-1")], [])
    _write(store, ("web-1", "go_goroutines"), 5)
    _write(store, ("web-1", "cpu"), 3)
    _write(store, ("db-1", "cpu"), 2)
    store.ensure_series([("web-1", "empty")])
    found = store.series_catalogue("web-1")
    assert [(s.metric, s.points, s.first_ts, s.last_ts) for s in found] == [
        ("cpu", 3, T0, T0 + 120),
        ("empty", 0, None, None),
        ("go_goroutines", 5, T0, T0 + 240),
    ]
    assert {(s.resource_id, s.kind, s.name) for s in found} == {("web-1", "ec2", "web")}
    assert store.series_catalogue("db-1")[0].points == 2
    with pytest.raises(NotFoundError):
        store.series_catalogue("ghost")


def test_search_by_metric_or_resources_in_one_order(store: Store) -> None:
    # More resources than one IN (...) list holds: the search goes through them in chunks.
    ids = [f"pod-{i:04d}" for i in range(1200)]
    store.upsert_topology([Resource(id=r) for r in ids], [])
    store.ensure_series([(r, "up") for r in ids] + [("pod-0003", "Go_Goroutines")])
    _write(store, ("pod-0700", "go_goroutines"), 4)
    by_metric = store.find_series("GOROUTINES", limit=10)
    assert [(s.resource_id, s.metric, s.points) for s in by_metric] == [
        ("pod-0003", "Go_Goroutines", 0),
        ("pod-0700", "go_goroutines", 4),
    ]
    # LIKE's wildcards match themselves only ("u_" would match "up" as a pattern).
    assert store.find_series("%", limit=10) == [] and store.find_series("u_", limit=10) == []
    assert len(store.find_series("o_g", limit=10)) == 2
    assert store.find_series("", limit=10) == []
    later = ids[600:]
    both = store.find_series("goroutines", resource_ids=reversed(later), limit=5)
    assert [(s.resource_id, s.metric) for s in both] == [
        ("pod-0003", "Go_Goroutines"),
        ("pod-0600", "up"),
        ("pod-0601", "up"),
        ("pod-0602", "up"),
        ("pod-0603", "up"),
    ]
    many = store.find_series("", resource_ids=ids, limit=700)
    assert len(many) == 700 and many[-1].resource_id == "pod-0698"
    with pytest.raises(InvalidInputError):
        store.find_series("up", limit=0)
