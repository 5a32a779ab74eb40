"""Tests of the record-keeping part of the store: anomalies, events, incidents, audit, counts.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    AuditEvent,
    Event,
    Incident,
    IncidentStatus,
    Resource,
    Severity,
    severity_for,
)
from opsgraph.store import Store
from opsgraph.store.tables import TABLE_NAMES

NO_IDS = np.array([], dtype=np.int64)
NO_FLOATS = np.array([], dtype=np.float64)


def _anomaly(i: int, resource_id: str, score: float, start: float, last: float) -> Anomaly:
    return Anomaly(
        resource_id=resource_id,
        metric="cpu" if i % 2 else "latency_ms",
        detector="robust_z",
        start_ts=start,
        last_ts=last,
        score=score,
        max_score=score,
        severity=severity_for(score),
        value=float(i),
        expected=0.0,
    )


@pytest.fixture
def anomalies(store: Store) -> list[Anomaly]:
    """12 anomalies on 3 resources; the first 4 resolved; two share a start_ts and a last_ts."""
    store.upsert_topology([Resource(id=r) for r in ("a", "b", "c")], [])
    scores = [0.1, 0.4, 0.7, 0.9]
    new = [
        _anomaly(i, "abc"[i % 3], scores[i % 4], start=100.0 * i, last=100.0 * i + 50 * (i % 2))
        for i in range(12)
    ]
    # A tie on last_ts and on start_ts: the id breaks it.
    new[5] = new[5].model_copy(update={"last_ts": new[6].last_ts, "start_ts": new[6].start_ts})
    created = store.write_batch(
        series_ids=NO_IDS, ts=NO_FLOATS, values=NO_FLOATS, new_anomalies=new
    )
    resolved = [
        a.model_copy(update={"status": AnomalyStatus.RESOLVED, "end_ts": a.last_ts + 25})
        for a in created[:4]
    ]
    store.write_batch(series_ids=NO_IDS, ts=NO_FLOATS, values=NO_FLOATS, updated_anomalies=resolved)
    return [*resolved, *created[4:]]


def _newest_first(items: list[Anomaly]) -> list[Anomaly]:
    return sorted(items, key=lambda a: (a.start_ts, a.id), reverse=True)


def test_list_anomalies_order_and_pages(store: Store, anomalies: list[Anomaly]) -> None:
    expected = _newest_first(anomalies)
    page, total = store.list_anomalies()
    assert total == 12
    assert page == expected
    pages = [store.list_anomalies(limit=5, offset=o) for o in (0, 5, 10, 15)]
    assert [len(p) for p, _ in pages] == [5, 5, 2, 0]
    assert all(t == 12 for _, t in pages)
    assert [a for p, _ in pages for a in p] == expected
    assert store.list_anomalies(limit=0) == ([], 12)
    with pytest.raises(InvalidInputError) as err:
        store.list_anomalies(offset=-1)
    assert err.value.field == "offset"


def test_page_anomalies_by_key_neither_repeats_nor_skips(
    store: Store, anomalies: list[Anomaly]
) -> None:
    seen: list[int | None] = []
    page = store.page_anomalies(limit=5)
    assert (page.total, page.position, page.has_newer, page.has_older) == (12, 0, False, True)
    first_page = page
    for n in range(3):
        seen += [a.id for a in page.items]
        # Anomalies arrive between two pages, newer than all and (one) older than the key.
        arrivals = [
            _anomaly(20 + n, "a", 0.5, start=10_000.0 + n, last=10_000.0 + n),
            _anomaly(30 + n, "b", 0.5, start=page.keys[-1].start_ts - 1.0, last=5_000.0),
        ]
        store.write_batch(series_ids=NO_IDS, ts=NO_FLOATS, values=NO_FLOATS, new_anomalies=arrivals)
        if not page.has_older:
            break
        page = store.page_anomalies(limit=5, key=page.keys[-1])
        assert page.has_newer and page.position == len(seen) + n + 1  # + newer arrivals
    original = {a.id for a in anomalies}
    assert len(seen) == len(set(seen)), "a row repeated"
    assert original <= set(seen), "a row was skipped"
    # Back towards the newest: the page just newer than the second is the first again.
    second = store.page_anomalies(limit=5, key=first_page.keys[-1])
    back = store.page_anomalies(limit=5, key=second.keys[0], newer=True)
    assert [a.id for a in back.items] == [a.id for a in first_page.items]
    assert back.has_older and back.has_newer  # the arrivals are newer still
    assert store.page_anomalies(limit=0).items == []
    opened = store.page_anomalies(status=AnomalyStatus.RESOLVED, limit=50)
    assert [a.id for a in opened.items] == [a.id for a in _newest_first(anomalies[:4])]


def test_list_anomalies_filters(store: Store, anomalies: list[Anomaly]) -> None:
    def ids(**kw: object) -> tuple[list[int | None], int]:
        page, total = store.list_anomalies(**kw)  # type: ignore[arg-type]
        return [a.id for a in page], total

    def want(keep: object) -> tuple[list[int | None], int]:
        assert callable(keep)
        chosen = [a.id for a in _newest_first([a for a in anomalies if keep(a)])]
        return chosen, len(chosen)

    high = [Severity.HIGH, Severity.CRITICAL]
    assert ids(severities=high) == want(lambda a: a.severity in high)
    assert ids(severities=[]) == ([], 0)
    assert ids(resource_id="b") == want(lambda a: a.resource_id == "b")
    assert ids(status=AnomalyStatus.OPEN) == want(lambda a: a.status == AnomalyStatus.OPEN)
    assert ids(status=AnomalyStatus.RESOLVED, resource_id="a") == want(
        lambda a: a.status == AnomalyStatus.RESOLVED and a.resource_id == "a"
    )

    def overlaps(a: Anomaly, start: float, end: float) -> bool:
        stop = a.end_ts if a.end_ts is not None else a.last_ts
        return a.start_ts <= end and stop >= start

    for start, end in ((120.0, 320.0), (0.0, 0.0), (1125.0, 5000.0), (49.0, 49.0)):
        assert ids(start=start, end=end) == want(lambda a, s=start, e=end: overlaps(a, s, e))
    assert ids(start=1000.0) == want(lambda a: overlaps(a, 1000.0, float("inf")))
    assert ids(end=150.0, severities=[Severity.LOW]) == want(
        lambda a: overlaps(a, float("-inf"), 150.0) and a.severity == Severity.LOW
    )
    # The resolved anomaly 0 (0 .. end 25) overlaps [20, 30] through its end_ts only.
    assert 1 in ids(start=20.0, end=30.0)[0]
    with pytest.raises(InvalidInputError):
        store.list_anomalies(start=10.0, end=5.0)


def test_list_anomalies_search(store: Store, anomalies: list[Anomaly]) -> None:
    store.upsert_topology([Resource(id=r) for r in ("db-Main_1", "dbxmain")], [])
    extra = [
        _anomaly(1, "db-Main_1", 0.9, start=5000.0, last=5000.0),
        _anomaly(2, "dbxmain", 0.9, start=5001.0, last=5001.0),
    ]
    store.write_batch(series_ids=NO_IDS, ts=NO_FLOATS, values=NO_FLOATS, new_anomalies=extra)

    def found(q: str, **kw: object) -> tuple[list[str], int]:
        page, total = store.list_anomalies(q=q, **kw)  # type: ignore[arg-type]
        return [f"{a.resource_id}/{a.metric}" for a in page], total

    # Case-insensitive substring of the resource id, or of the metric.
    assert found("MAIN") == (["dbxmain/latency_ms", "db-Main_1/cpu"], 2)
    assert found("  main_1 ") == (["db-Main_1/cpu"], 1)
    latency = [a for a in anomalies if a.metric == "latency_ms"]
    assert found("LATENCY")[1] == len(latency) + 1
    # Wildcards match only themselves: "_" is not any character, "%" not any run.
    assert found("b_m") == ([], 0)
    assert found("db-m") == (["db-Main_1/cpu"], 1)
    assert found("%") == ([], 0)
    # Combined with the other filters and paged; the total counts every match.
    page, total = found("latency", limit=2, offset=1, status=AnomalyStatus.OPEN)
    open_latency = [a for a in latency if a.status == AnomalyStatus.OPEN]
    assert total == len(open_latency) + 1
    assert len(page) == 2
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInputError, match="q"):
            store.list_anomalies(q=bad)


def test_get_and_open_anomalies(store: Store, anomalies: list[Anomaly]) -> None:
    assert store.get_anomaly(3) == next(a for a in anomalies if a.id == 3)
    with pytest.raises(NotFoundError) as err:
        store.get_anomaly(999)
    assert (err.value.kind, err.value.ident) == ("anomaly", 999)
    assert [a.id for a in store.open_anomalies()] == list(range(5, 13))


def test_events(store: Store) -> None:
    events = [
        Event(ts=10.0, kind="deploy", resource_id="web-1", message="v2", payload={"sha": "abc"}),
        Event(ts=20.0, kind="fault", resource_id="db-1", severity=Severity.CRITICAL),
        Event(ts=30.0, kind="deploy", resource_id="db-1"),
        Event(ts=30.0, kind="calendar", payload={"name": "black friday", "x": [1.5, None]}),
    ]
    stored = store.add_events(events)
    assert [e.id for e in stored] == [1, 2, 3, 4]
    assert [e.model_copy(update={"id": None}) for e in stored] == events
    page, total = store.list_events()
    assert total == 4
    assert [e.id for e in page] == [4, 3, 2, 1]
    assert page[0].payload == {"name": "black friday", "x": [1.5, None]}
    assert page[2].severity == Severity.CRITICAL
    assert [e.id for e in store.list_events(kind="deploy")[0]] == [3, 1]
    assert [e.id for e in store.list_events(resource_id="db-1")[0]] == [3, 2]
    assert [e.id for e in store.list_events(start=15.0, end=30.0)[0]] == [4, 3, 2]
    assert store.list_events(kind="deploy", end=15.0) == ([stored[0]], 1)
    assert store.list_events(limit=1, offset=1) == ([stored[2]], 4)
    assert store.add_events([]) == []
    with pytest.raises(InvalidInputError) as err:
        store.add_events([stored[0]])
    assert err.value.field == "events[0].id"


def test_incidents(store: Store) -> None:
    first = store.add_incident(
        Incident(title="db slow", severity=Severity.HIGH, opened_ts=100.0, resource_ids=["db-1"])
    )
    second = store.add_incident(
        Incident(
            title="web errors",
            severity=Severity.CRITICAL,
            opened_ts=200.0,
            root_resource_id="db-1",
            resource_ids=["web-1", "db-1"],
            summary="errors climb after the db slows",
        )
    )
    assert (first.id, second.id) == (1, 2)
    assert store.get_incident(2) == second
    acked = first.model_copy(update={"status": IncidentStatus.ACKNOWLEDGED, "summary": "on it"})
    assert store.update_incident(acked) == acked
    assert store.get_incident(1) == acked
    assert store.list_incidents() == ([second, acked], 2)
    assert store.list_incidents(status=IncidentStatus.ACKNOWLEDGED) == ([acked], 1)
    assert store.list_incidents(status=IncidentStatus.RESOLVED) == ([], 0)
    assert store.list_incidents(limit=1, offset=1) == ([acked], 2)
    with pytest.raises(NotFoundError):
        store.get_incident(3)
    with pytest.raises(NotFoundError):
        store.update_incident(acked.model_copy(update={"id": 3}))
    with pytest.raises(InvalidInputError):
        store.update_incident(acked.model_copy(update={"id": None}))
    with pytest.raises(InvalidInputError):
        store.add_incident(acked)
    # Named fields only: an older copy's other fields are not written back.
    older = first.model_copy(update={"severity": Severity.CRITICAL, "summary": "stale"})
    store.update_incident(older, ("severity",))
    assert store.get_incident(1) == acked.model_copy(update={"severity": Severity.CRITICAL})
    with pytest.raises(InvalidInputError, match="not incident fields: colour"):
        store.update_incident(older, ("colour",))


def test_audit_is_append_only(store: Store) -> None:
    entries = [
        AuditEvent(
            ts=float(i),
            actor="policy:scale" if i % 2 else "alice",
            action="scale_out" if i % 3 else "reboot",
            target=f"asg-{i % 2}",
            reason="cpu > 70%",
            inputs={"delta": i},
            result={"ok": True, "dry_run": i % 2 == 0},
        )
        for i in range(6)
    ]
    stored = [store.append_audit(e) for e in entries]
    assert [e.id for e in stored] == [1, 2, 3, 4, 5, 6]
    page, total = store.list_audit()
    assert total == 6
    assert page == stored[::-1]
    assert store.list_audit(action="reboot") == ([stored[3], stored[0]], 2)
    assert store.list_audit(target="asg-1", limit=2) == ([stored[5], stored[3]], 3)
    assert store.list_audit(action="scale_out", target="asg-0") == ([stored[4], stored[2]], 2)
    with pytest.raises(InvalidInputError):
        store.append_audit(stored[0])
    # There is no way to change or remove an audit event through the store.
    assert not [n for n in dir(store) if "audit" in n and n.split("_")[0] in ("update", "delete")]


def test_counts(store: Store) -> None:
    store.upsert_topology([Resource(id="a"), Resource(id="b")], [])
    sid = store.ensure_series([("a", "cpu")])[0]
    store.write_batch(
        series_ids=np.full(5, sid, dtype=np.int64),
        ts=np.arange(5.0),
        values=np.ones(5),
        new_anomalies=[_anomaly(1, "a", 0.9, 0.0, 4.0)],
        events=[Event(ts=1.0, kind="x")],
    )
    store.add_incident(Incident(title="t", severity=Severity.LOW, opened_ts=1.0))
    store.append_audit(AuditEvent(ts=1.0, actor="me", action="noop"))
    counts = store.counts()
    assert set(counts) == set(TABLE_NAMES)
    assert {name: n for name, n in counts.items() if n} == {
        "resources": 2,
        "series": 1,
        "samples": 5,
        "events": 1,
        "anomalies": 1,
        "incidents": 1,
        "audit_events": 1,
    }
