"""Tests of the hot path of the store: write_batch (one transaction) and read_samples.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError, StoreError
from opsgraph.core.models import Anomaly, AnomalyStatus, Event, Incident, Resource, Severity
from opsgraph.store import Store

T0 = 1_700_000_000.0


def _anomaly(**kw: object) -> Anomaly:
    base: dict[str, object] = {
        "resource_id": "web-1",
        "metric": "cpu",
        "detector": "robust_z",
        "start_ts": T0,
        "last_ts": T0,
        "score": 0.7,
        "max_score": 0.7,
        "severity": Severity.HIGH,
        "value": 97.0,
        "expected": 40.0,
    }
    base.update(kw)
    return Anomaly.model_validate(base)


@pytest.fixture
def series(store: Store) -> dict[str, int]:
    store.upsert_topology([Resource(id="web-1"), Resource(id="db-1")], [])
    keys = [("web-1", "cpu"), ("web-1", "memory"), ("db-1", "cpu")]
    ids = store.ensure_series(keys)
    return {"cpu": ids[0], "memory": ids[1], "db_cpu": ids[2]}


def _write_grid(store: Store, series: dict[str, int], n: int = 100) -> None:
    """n points per series, one per 10 s; value = 1000 * series index + point index."""
    sids = np.array(list(series.values()), dtype=np.int64)
    ids = np.repeat(sids, n)
    ts = np.tile(T0 + 10.0 * np.arange(n), sids.size)
    values = np.concatenate([1000.0 * i + np.arange(n) for i in range(sids.size)])
    assert store.write_batch(series_ids=ids, ts=ts, values=values) == []


def test_round_trip(store: Store, series: dict[str, int]) -> None:
    assert store.last_sample_ts() is None
    _write_grid(store, series)
    assert store.last_sample_ts() == T0 + 990.0
    assert store.counts()["samples"] == 300
    got = store.read_samples("web-1")
    assert list(got) == ["cpu", "memory"]
    ts, values = got["memory"]
    assert ts == [T0 + 10.0 * i for i in range(100)]
    assert values == [1000.0 + i for i in range(100)]
    assert store.read_samples("db-1")["cpu"][1][:2] == [2000.0, 2001.0]


def test_read_ranges_metrics_and_limit(store: Store, series: dict[str, int]) -> None:
    _write_grid(store, series)
    got = store.read_samples("web-1", metrics=["cpu"], start=T0 + 100, end=T0 + 200)
    assert list(got) == ["cpu"]
    assert got["cpu"][0] == [T0 + 10.0 * i for i in range(10, 21)]  # both ends inclusive
    latest = store.read_samples("web-1", metrics=["memory", "disk"], limit=5)
    assert list(latest) == ["memory"]  # no series for disk
    assert latest["memory"] == (
        [T0 + 10.0 * i for i in range(95, 100)],
        [1095.0 + i for i in range(5)],
    )
    window = store.read_samples("web-1", start=T0 + 500, limit=3)
    assert window["cpu"][0] == [T0 + 970, T0 + 980, T0 + 990]
    assert store.read_samples("web-1", start=T0 + 5000) == {"cpu": ([], []), "memory": ([], [])}
    with pytest.raises(NotFoundError):
        store.read_samples("ghost")
    with pytest.raises(InvalidInputError) as err:
        store.read_samples("web-1", limit=0)
    assert err.value.field == "limit"
    with pytest.raises(InvalidInputError) as err:
        store.read_samples("web-1", start=T0 + 10, end=T0)
    assert err.value.field == "end"


def test_gaps_are_not_stored(store: Store, series: dict[str, int]) -> None:
    sid = series["cpu"]
    store.write_batch(
        series_ids=np.array([sid, sid, sid, sid]),
        ts=np.array([T0, T0 + 1, T0 + 2, np.nan]),
        values=np.array([1.0, np.nan, np.inf, 4.0]),
    )
    assert store.read_samples("web-1", metrics=["cpu"])["cpu"] == ([T0], [1.0])


def test_empty_batch(store: Store, series: dict[str, int]) -> None:
    empty_i = np.array([], dtype=np.int64)
    empty_f = np.array([], dtype=np.float64)
    assert store.write_batch(series_ids=empty_i, ts=empty_f, values=empty_f) == []
    assert store.counts()["samples"] == 0


def test_bad_arrays_are_refused(store: Store, series: dict[str, int]) -> None:
    one = np.array([float(T0)])
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(series_ids=np.array([series["cpu"]] * 2), ts=one, values=one)
    assert err.value.field == "values"
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(series_ids=np.array([[series["cpu"]]]), ts=one, values=one)
    assert err.value.field == "series_ids"
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(
            series_ids=np.array([series["cpu"], 999_999]), ts=one.repeat(2), values=one.repeat(2)
        )
    assert "999999" in err.value.reason
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(series_ids=np.array([1.5]), ts=one, values=one)
    assert err.value.field == "series_ids"
    assert store.counts()["samples"] == 0


def test_a_second_store_accepts_series_it_did_not_create(
    store: Store, series: dict[str, int], make_store: object
) -> None:
    assert callable(make_store)
    other: Store = make_store()
    other.write_batch(
        series_ids=np.array([series["db_cpu"]]), ts=np.array([T0]), values=np.array([1.0])
    )
    assert store.read_samples("db-1")["cpu"] == ([T0], [1.0])


def test_anomalies_and_events_in_the_batch(store: Store, series: dict[str, int]) -> None:
    sid = np.array([series["cpu"]])
    created = store.write_batch(
        series_ids=sid,
        ts=np.array([T0]),
        values=np.array([97.0]),
        new_anomalies=[_anomaly(), _anomaly(metric="memory", severity=Severity.LOW, score=0.2)],
        events=[Event(ts=T0, kind="anomaly", resource_id="web-1", payload={"k": [1, 2]})],
    )
    assert [a.id for a in created] == [1, 2]
    assert store.get_anomaly(2).metric == "memory"

    incident = store.add_incident(
        Incident(title="web down", severity=Severity.HIGH, opened_ts=T0, resource_ids=["web-1"])
    )
    linked = created[0].model_copy(update={"incident_id": incident.id})
    resolved = created[1].model_copy(
        update={
            "last_ts": T0 + 60,
            "end_ts": T0 + 70,
            "score": 0.1,
            "max_score": 0.9,
            "severity": Severity.CRITICAL,
            "value": 1.0,
            "expected": 2.0,
            "status": AnomalyStatus.RESOLVED,
            # Fields an update leaves alone:
            "detector": "other",
            "start_ts": T0 - 100,
        }
    )
    store.write_batch(
        series_ids=sid, ts=np.array([T0 + 60]), values=np.array([1.0]), updated_anomalies=[linked]
    )
    # A later update from a copy that does not know the incident keeps the link.
    stale = created[0].model_copy(update={"last_ts": T0 + 120})
    store.write_batch(
        series_ids=sid,
        ts=np.array([T0 + 120]),
        values=np.array([2.0]),
        updated_anomalies=[stale, resolved],
    )
    first = store.get_anomaly(1)
    assert (first.last_ts, first.incident_id) == (T0 + 120, incident.id)
    assert store.get_anomaly(2) == resolved.model_copy(
        update={"detector": "robust_z", "start_ts": T0}
    )
    events, total = store.list_events()
    assert total == 1
    assert events[0].payload == {"k": [1, 2]}
    assert store.counts()["samples"] == 3


def test_new_and_updated_anomalies_are_checked(store: Store, series: dict[str, int]) -> None:
    sid, ts, v = np.array([series["cpu"]]), np.array([T0]), np.array([1.0])
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(series_ids=sid, ts=ts, values=v, new_anomalies=[_anomaly(id=5)])
    assert err.value.field == "new_anomalies[0].id"
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(series_ids=sid, ts=ts, values=v, updated_anomalies=[_anomaly()])
    assert err.value.field == "updated_anomalies[0].id"
    with pytest.raises(InvalidInputError) as err:
        store.write_batch(
            series_ids=sid, ts=ts, values=v, new_anomalies=[_anomaly(resource_id="ghost")]
        )
    assert err.value.field == "new_anomalies[0].resource_id"
    assert store.counts()["samples"] == 0


def test_update_of_missing_anomaly_leaves_nothing(store: Store, series: dict[str, int]) -> None:
    with pytest.raises(NotFoundError) as err:
        store.write_batch(
            series_ids=np.array([series["cpu"]] * 3),
            ts=T0 + np.arange(3.0),
            values=np.arange(3.0),
            new_anomalies=[_anomaly()],
            updated_anomalies=[_anomaly(id=424242)],
            events=[Event(ts=T0, kind="x")],
        )
    assert (err.value.kind, err.value.ident) == ("anomaly", 424242)
    counts = store.counts()
    assert (counts["samples"], counts["anomalies"], counts["events"]) == (0, 0, 0)


def test_database_failure_rolls_everything_back(store: Store, series: dict[str, int]) -> None:
    """Failures found after the samples went in (by the database or the store) undo them too."""
    write = partial(
        store.write_batch,
        series_ids=np.array([series["cpu"]] * 3),
        ts=T0 + np.arange(3.0),
        values=np.arange(3.0),
    )
    # A foreign key only the database checks: there is no incident 999.
    with pytest.raises(StoreError):
        write(new_anomalies=[_anomaly(incident_id=999)])
    # An event whose payload cannot be stored as JSON, found after samples and anomalies.
    for payload in ({"o": {1j}}, {"nan": float("nan")}):
        with pytest.raises(InvalidInputError) as err:
            write(
                new_anomalies=[_anomaly()],
                events=[Event(ts=T0, kind="ok"), Event(ts=T0, kind="x", payload=payload)],
            )
        assert err.value.field == "events[1].payload"
    counts = store.counts()
    assert (counts["samples"], counts["anomalies"], counts["events"]) == (0, 0, 0)
    # The store is still usable afterwards.
    write()
    assert store.counts()["samples"] == 3
