"""POST /events records a change of a resource (a deploy) for rollback policies; bad input is
refused naming the field, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from opsgraph.core.auth import Role
from opsgraph.runtime.root import Runtime


def _changes(client: TestClient) -> list[dict[str, object]]:
    items = client.get("/events", params={"kind": "change.deploy", "limit": 100}).json()["items"]
    return [e for e in items if e["payload"].get("source") != "simulator"]


def test_a_deploy_is_recorded_audited_and_listed(client: TestClient, runtime: Runtime) -> None:
    node = next(iter(runtime.estate.resources))
    body = {"resource_id": node, "message": "v42 rolled out", "payload": {"version": "v42"}}
    r = client.post("/events", json=body)
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["kind"] == "change.deploy" and event["resource_id"] == node
    assert abs(event["ts"] - runtime.clock()) < 120
    assert [e["id"] for e in _changes(client)] == [event["id"]]
    audit = runtime.store.list_audit(action="events.change")[0]
    assert audit[0].target == node and audit[0].inputs["payload"] == {"version": "v42"}


def test_bad_changes_are_refused_naming_the_field(client: TestClient, runtime: Runtime) -> None:
    node = next(iter(runtime.estate.resources))
    cases = [
        ({"resource_id": "no-such-node"}, 422, "unknown resource 'no-such-node'"),
        ({"resource_id": node, "kind": "fault.injected"}, 422, "kind"),
        ({"resource_id": node, "kind": "change.Deploy"}, 422, "kind"),
        ({"resource_id": node, "ts": runtime.clock() + 86_400}, 422, "event[0].ts"),
        ({"resource_id": node, "ts": 1.0}, 422, "event[0].ts"),
        ({"resource_id": node, "payload": {"blob": "x" * 20_000}}, 422, "payload"),
        ({"resource_id": node, "surprise": 1}, 422, "surprise"),
        ({"resource_id": ""}, 422, "resource_id"),
    ]
    for body, status, named in cases:
        r = client.post("/events", json=body)
        assert r.status_code == status, (body, r.text)
        assert named in r.text, (body, r.text)
    r = client.post(
        "/events",
        content=b'{"resource_id": "%s", "payload": {"x": NaN}}' % node.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert _changes(client) == []


def test_viewers_may_not_record_changes(
    client: TestClient, runtime: Runtime, make_key: Callable[[Role], str]
) -> None:
    node = next(iter(runtime.estate.resources))
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    r = client.post("/events", json={"resource_id": node}, headers=viewer)
    assert r.status_code == 403
    assert _changes(client) == []
