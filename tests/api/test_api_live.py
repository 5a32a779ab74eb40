"""The long-poll fallback of the WebSocket: GET /events/live returns the messages after a cursor,
waits (bounded) for new ones, filters by type, and says when a cursor is stale."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def _poll(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/events/live", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_messages_after_the_cursor(client: TestClient, runtime: Runtime) -> None:
    start = _poll(client, timeout=0)["cursor"]
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    page = _poll(client, after=start, timeout=0)
    assert page["missed"] == 0 and not page["reset"]
    ids = [m["id"] for m in page["messages"]]
    assert ids == list(range(start + 1, start + 1 + len(ids))) and page["cursor"] == ids[-1]
    fault = next(m for m in page["messages"] if m["type"] == "fault:new")
    assert fault["data"]["root"] == db
    # Nothing new: an empty page after the bounded wait, cursor unchanged.
    quiet = _poll(client, after=page["cursor"], timeout=0.2)
    assert quiet == {"cursor": page["cursor"], "messages": [], "missed": 0, "reset": False}


def test_waits_for_the_next_message(client: TestClient, runtime: Runtime) -> None:
    cursor = _poll(client, timeout=0)["cursor"]
    answer: dict[str, Any] = {}

    def wait() -> None:
        answer.update(_poll(client, after=cursor, timeout=25, types="anomaly:new,fault:new"))

    waiter = threading.Thread(target=wait)
    waiter.start()
    deadline = time.monotonic() + 20
    while runtime.hub.waiting == 0:  # the poll is parked on the hub
        assert time.monotonic() < deadline, "the long-poll never started waiting"
        time.sleep(0.01)
    runtime.hub.publish("metrics:update", {"nodes": {}})  # filtered out: keeps waiting
    runtime.hub.publish("fault:new", {"id": "f-1", "root": "db-1"})
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert [(m["type"], m["data"]["id"]) for m in answer["messages"]] == [("fault:new", "f-1")]
    assert answer["cursor"] == runtime.hub.last_id


def test_stale_and_future_cursors(client: TestClient, runtime: Runtime) -> None:
    hub = runtime.hub
    oldest_kept = hub.last_id + 1
    for i in range(hub.history_size + 5):
        hub.publish("fault:new", {"id": i})
    page = _poll(client, after=oldest_kept - 1, timeout=0, limit=10)
    assert page["missed"] == 5 and page["messages"][0]["data"] == {"id": 5}
    assert len(page["messages"]) == 10 and page["cursor"] == page["messages"][-1]["id"]
    # A cursor from before a restart (ahead of the stream) starts over from the buffer.
    future = _poll(client, after=hub.last_id + 1000, timeout=0, limit=3)
    assert future["reset"] and len(future["messages"]) == 3


def test_bad_parameters_are_refused(client: TestClient) -> None:
    response = client.get("/events/live", params={"types": "anomaly:new,anomaly:maybe"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "types"
    response = client.get("/events/live", params={"after": -1})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.after"
    response = client.get("/events/live", params={"timeout": 600})
    assert response.status_code == 422


def test_needs_a_credential(anonymous: TestClient) -> None:
    assert anonymous.get("/events/live", params={"timeout": 0}).status_code == 401


def test_polling_counts_as_listening(client: TestClient, runtime: Runtime) -> None:
    # Publishers skip costly messages (metrics:update) when nobody listens; a poller listens.
    assert runtime.hub.subscriber_count == 0
    _poll(client, timeout=0)
    assert runtime.hub.subscriber_count == 1
