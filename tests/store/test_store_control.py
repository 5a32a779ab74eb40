"""Feedback and maintenance windows in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import (
    Anomaly,
    Feedback,
    FeedbackVerdict,
    MaintenanceWindow,
    Resource,
    Severity,
)
from opsgraph.store import Store


def _anomaly_id(store: Store) -> int:
    store.upsert_topology([Resource(id="db-1"), Resource(id="api-1")], [])
    anomaly = Anomaly(
        resource_id="db-1",
        metric="cpu",
        detector="robust_z",
        start_ts=1.0,
        last_ts=2.0,
        score=0.7,
        max_score=0.7,
        severity=Severity.HIGH,
        value=90.0,
        expected=20.0,
    )
    created = store.write_batch(
        series_ids=np.zeros(0, np.int64),
        ts=np.zeros(0),
        values=np.zeros(0),
        new_anomalies=[anomaly],
    )
    assert created[0].id is not None
    return created[0].id


def _feedback(anomaly_id: int, verdict: FeedbackVerdict, ts: float) -> Feedback:
    return Feedback(
        anomaly_id=anomaly_id,
        resource_id="db-1",
        metric="cpu",
        verdict=verdict,
        score=0.7,
        note="nightly batch",
        actor="ana",
        ts=ts,
    )


def test_feedback_round_trip(store: Store) -> None:
    aid = _anomaly_id(store)
    first = store.add_feedback(_feedback(aid, FeedbackVerdict.FALSE_POSITIVE, 10.0))
    store.add_feedback(_feedback(aid, FeedbackVerdict.CONFIRMED, 20.0))
    assert first.id is not None
    page, total = store.list_feedback(anomaly_id=aid)
    assert total == 2 and [f.verdict for f in page] == [
        FeedbackVerdict.CONFIRMED,
        FeedbackVerdict.FALSE_POSITIVE,
    ]
    assert [f.ts for f in store.all_feedback()] == [10.0, 20.0]
    with pytest.raises(NotFoundError):
        store.add_feedback(_feedback(aid + 100, FeedbackVerdict.CONFIRMED, 1.0))
    wrong = _feedback(aid, FeedbackVerdict.CONFIRMED, 1.0).model_copy(update={"metric": "mem"})
    with pytest.raises(InvalidInputError, match="series"):
        store.add_feedback(wrong)
    assert store.counts()["feedback"] == 2


def test_maintenance_windows(store: Store) -> None:
    _anomaly_id(store)
    window = MaintenanceWindow(
        resource_ids=["db-1", "api-1"],
        start_ts=100.0,
        end_ts=200.0,
        reason="upgrade",
        created_ts=50.0,
    )
    saved = store.add_maintenance(window)
    assert saved.id is not None and saved.active_at(150.0) and not saved.active_at(200.0)
    assert [w.id for w in store.list_maintenance()] == [saved.id]
    assert store.list_maintenance(ending_after=250.0) == []
    with pytest.raises(InvalidInputError, match="unknown resource 'ghost'"):
        store.add_maintenance(window.model_copy(update={"resource_ids": ["ghost"]}))
    with pytest.raises(InvalidInputError, match="after"):
        store.add_maintenance(window.model_copy(update={"end_ts": 100.0}))
    store.delete_maintenance(saved.id)
    assert store.list_maintenance() == []
    with pytest.raises(NotFoundError):
        store.delete_maintenance(saved.id)
