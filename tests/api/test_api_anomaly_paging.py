"""GET /anomalies by cursor: newest first by start, no row repeated or skipped while anomalies
arrive between two pages; offset still works; each item says why; by incident; and who was
notified of an incident (GET /incidents/{id}/notifications)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from opsgraph.core.models import Anomaly, AuditEvent, Incident, Severity, severity_for
from opsgraph.notify.settings import RouteSettings
from opsgraph.runtime.root import Runtime

NO_IDS = np.array([], dtype=np.int64)
NO_FLOATS = np.array([], dtype=np.float64)
_ids = itertools.count()


def _add(runtime: Runtime, resource: str, starts: list[float], **extra: Any) -> list[Anomaly]:
    new = [
        Anomaly(
            resource_id=resource,
            metric="latency_ms",
            detector="robust_z",
            start_ts=start,
            last_ts=start + 30 * (next(_ids) % 3),
            score=0.65,
            max_score=0.65,
            severity=severity_for(0.65),
            value=412.0,
            expected=120.0,
            **extra,
        )
        for start in starts
    ]
    return runtime.store.write_batch(
        series_ids=NO_IDS, ts=NO_FLOATS, values=NO_FLOATS, new_anomalies=new
    )


def _resource(runtime: Runtime) -> str:
    return sorted(runtime.estate.resources)[0]


def test_cursor_pages_neither_repeat_nor_skip_while_anomalies_arrive(
    client: TestClient, runtime: Runtime
) -> None:
    resource = _resource(runtime)
    # 25 anomalies, three of them starting at the same time (the id breaks the tie).
    _add(runtime, resource, [1000.0 + 10 * i for i in range(22)] + [1100.0, 1100.0, 1100.0])
    params: dict[str, Any] = {"resource_id": resource, "limit": 10}
    before = client.get("/anomalies", params={**params, "limit": 1000}).json()
    original = [a["id"] for a in before["items"]]
    starts = [(a["start_ts"], a["id"]) for a in before["items"]]
    assert starts == sorted(starts, reverse=True) and len(original) >= 25

    first = client.get("/anomalies", params=params).json()
    assert first["offset"] == 0 and first["prev_cursor"] is None and first["next_cursor"]
    pages, page, edge = [first], first, 5000.0
    while page["next_cursor"]:
        # Between two fetches: newer anomalies, and one older than the page just read.
        _add(runtime, resource, [edge, page["items"][-1]["start_ts"] - 0.5])
        edge += 1
        page = client.get("/anomalies", params={**params, "cursor": page["next_cursor"]}).json()
        assert page["prev_cursor"] is not None
        pages.append(page)
    seen = [a["id"] for p in pages for a in p["items"]]
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(original) <= set(seen), "a row was skipped"
    # Offsets say where a page stands: the rows newer than it (arrivals included).
    assert pages[1]["offset"] == 10 + 1

    # prev_cursor of the second page is the first page again.
    back = client.get("/anomalies", params={**params, "cursor": pages[1]["prev_cursor"]}).json()
    assert [a["id"] for a in back["items"]] == [a["id"] for a in first["items"]]
    assert back["prev_cursor"] is not None  # the arrivals are newer still

    item = first["items"][0]
    assert item["why"].startswith("412 ms vs 120 ms expected · robust_z · z 7.2")
    one = client.get(f"/anomalies/{item['id']}").json()
    assert one["why"] == item["why"]


def test_offset_still_pages_and_bad_cursors_are_refused(
    client: TestClient, runtime: Runtime
) -> None:
    resource = _resource(runtime)
    _add(runtime, resource, [2000.0 + i for i in range(12)])
    params: dict[str, Any] = {"resource_id": resource, "limit": 5}
    everything = client.get("/anomalies", params={**params, "limit": 1000}).json()
    second = client.get("/anomalies", params={**params, "offset": 5}).json()
    assert second["offset"] == 5 and second["total"] == everything["total"]
    assert [a["id"] for a in second["items"]] == [a["id"] for a in everything["items"][5:10]]
    assert second["next_cursor"] and second["prev_cursor"]
    third = client.get("/anomalies", params={**params, "cursor": second["next_cursor"]}).json()
    assert [a["id"] for a in third["items"]] == [a["id"] for a in everything["items"][10:15]]
    both = client.get("/anomalies", params={"cursor": second["next_cursor"], "offset": 5})
    assert both.status_code == 422 and "offset" in both.text
    for bad in ("nope", "W10", "WyJ4IiwxLDJd", "x" * 201):
        response = client.get("/anomalies", params={"cursor": bad})
        assert response.status_code == 422, (bad, response.text)


def test_anomalies_of_an_incident_and_who_was_notified(
    client: TestClient, runtime: Runtime
) -> None:
    resource = _resource(runtime)
    incident = runtime.store.add_incident(
        Incident(title="latency on api", severity=Severity.HIGH, opened_ts=3000.0)
    )
    assert incident.id is not None
    members = _add(runtime, resource, [3000.0, 3010.0], incident_id=incident.id)
    listed = client.get("/anomalies", params={"incident_id": incident.id}).json()
    assert sorted(a["id"] for a in listed["items"]) == sorted(a.id for a in members)

    url = f"/incidents/{incident.id}/notifications"
    empty = client.get(url).json()
    assert empty == {"configured": False, "receivers": [], "items": []}
    for target, labels, status in [
        ("oncall", {"incident": str(incident.id)}, "sent"),
        ("team", {"incident": str(incident.id + 1)}, "sent"),  # another incident's
    ]:
        runtime.store.append_audit(
            AuditEvent(
                ts=3001.0,
                actor="notify",
                action="notify.send",
                target=target,
                reason="route 0",
                inputs={"type": "incident:update", "title": "latency", "labels": labels},
                result={"status": status, "attempts": 1},
            )
        )
    runtime.settings.notify.routes = [RouteSettings(receiver="oncall")]
    told = client.get(url).json()
    assert told["configured"] is True and told["receivers"] == ["oncall"]
    assert [(n["receiver"], n["outcome"]) for n in told["items"]] == [("oncall", "sent")]
    assert client.get(f"/incidents/{incident.id}").json()["notifications"] == told
    assert client.get("/incidents/999999/notifications").status_code == 404
