"""The Incidents page in a real browser against a real demo: the list, one incident's timeline
with the reason it opened, acknowledging with a note, the status filter, and a viewer's view.

Writes test-artifacts/incidents*.png and the docs' picture incidents.png.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

pytestmark = pytest.mark.browser

READY = "() => document.body.dataset.ready === 'true'"


def _wait(check: Any, what: str, timeout: float = 180.0) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _ended_incident(api: httpx.Client) -> dict[str, Any]:
    """An incident the demo opened and then resolved itself, after an outage of a database:
    one already resolved, else that of an outage running, else of one injected now (one fault
    pages once, so a test that reopened the last one leaves none for the next)."""
    faults = api.get("/sim/faults").json()
    resolved = api.get("/incidents", params={"status": "resolved"}).json()["items"]
    if not resolved and all(f["cleared_ts"] is not None for f in faults):
        graph = api.get("/graph").json()
        dbs = [n["id"] for n in graph["nodes"] if n["kind"] == "rds"]
        hit = {f["root"] for f in faults}
        db = next((d for d in dbs if d not in hit), dbs[0])
        body = {"kind": "dependency_outage", "node": db, "duration_s": 3_600}
        response = api.post("/sim/faults", json=body)
        assert response.status_code == 201, response.text

    def found() -> dict[str, Any] | None:
        # Once the fault is over, new anomalies seldom join the incident again when reopened.
        if any(f["cleared_ts"] is None for f in api.get("/sim/faults").json()):
            return None
        items = api.get("/incidents", params={"status": "resolved"}).json()["items"]
        return max(items, key=lambda i: len(i["resource_ids"])) if items else None

    return dict(_wait(found, "a resolved incident"))


def _reopened(api: httpx.Client, incident_id: int) -> dict[str, Any]:
    """The incident, reopened by the admin (its anomalies are over: it stays open)."""
    body = {"status": "open", "note": "reopened by the browser test"}
    response = api.patch(f"/incidents/{incident_id}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "open"
    return dict(api.get(f"/incidents/{incident_id}").json())


def _shot(page: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def test_timeline_and_acknowledge_with_a_note(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path, doc_shots: Path
) -> None:
    incident = _reopened(api, _ended_incident(api)["id"])
    page = dashboard.page
    page.goto(f"{demo_url}/incidents.html")
    page.wait_for_function(READY, timeout=30_000)

    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident["id"]}"]')
    row.wait_for(timeout=10_000)
    assert row.get_attribute("data-status") == "open"
    assert row.locator("td.resource").inner_text() == incident["root_resource_id"]
    # The demo keeps running: a member may join the reopened incident after it was fetched.
    assert int(row.locator("td.num").first.inner_text()) >= len(incident["resource_ids"])

    row.get_by_test_id("incident-link").click()
    detail = page.get_by_test_id("incident-detail")
    detail.wait_for(state="visible", timeout=5_000)
    page.wait_for_selector(f'[data-testid="incident-detail"][data-incident-id="{incident["id"]}"]')
    assert parse_qs(urlparse(page.url).query)["id"] == [str(incident["id"])]
    assert page.evaluate("document.activeElement.id") == "incident-title"
    # The demo configures no receiver: the incident says that nobody was told.
    assert incident["notifications"]["configured"] is False
    assert "nobody is notified" in page.get_by_test_id("no-receiver").inner_text()

    # The timeline starts with why the incident opened, and shows the hand reopening.
    items = page.get_by_test_id("timeline-item")
    assert items.first.get_attribute("data-kind") == "opened"
    opened = incident["timeline"][0]
    assert opened["kind"] == "opened" and opened["message"]
    assert items.first.get_by_test_id("timeline-message").inner_text() == opened["message"]
    kinds = items.evaluate_all("items => items.map(li => li.dataset.kind)")
    assert {"grouped", "resolved", "reopened"} <= set(kinds)
    # (An anomaly may join the reopened incident meanwhile.)
    assert page.get_by_test_id("member-row").count() >= len(incident["anomalies"]) >= 2
    # The root cause was ranked on the live path: its hypotheses are listed, best first.
    assert incident["root_confidence"] is not None, incident["timeline"]
    hypotheses = page.get_by_test_id("hypothesis")
    assert hypotheses.count() == len(incident["hypotheses"]) >= 1
    assert hypotheses.first.get_attribute("data-node") == incident["root_resource_id"]
    meta = page.get_by_test_id("incident-meta").inner_text()
    assert f"root {incident['root_resource_id']} (confidence" in meta

    # Acknowledge with a note, from the page; the API has it, by this user, on the timeline.
    page.get_by_test_id("incident-note").fill("looking at the database")
    page.get_by_test_id("incident-acknowledge").click()
    page.wait_for_selector('[data-testid="incident-detail"][data-status="acknowledged"]')
    stored = api.get(f"/incidents/{incident['id']}").json()
    assert stored["status"] == "acknowledged"
    assert stored["acknowledged_by"] and "admin" in stored["acknowledged_by"]
    last = stored["timeline"][-1]
    assert last["kind"] == "acknowledged" and "looking at the database" in last["message"]
    page.wait_for_selector('[data-testid="timeline-item"][data-kind="acknowledged"]')
    assert page.get_by_test_id("incident-acknowledge").is_hidden()
    assert "acknowledged" in page.get_by_test_id("incident-message").inner_text()
    row.wait_for(timeout=5_000)
    page.wait_for_selector(
        f'[data-testid="incident-row"][data-incident-id="{incident["id"]}"]'
        '[data-status="acknowledged"]'
    )

    # A note alone adds a line; an empty one is refused on the page, not sent.
    page.get_by_test_id("note-submit").click()
    assert page.get_by_test_id("incident-note").get_attribute("aria-invalid") == "true"
    page.get_by_test_id("incident-note").fill("failover planned")
    page.get_by_test_id("note-submit").click()
    page.wait_for_selector('[data-testid="timeline-item"][data-kind="note"]', timeout=10_000)
    notes = [
        e for e in api.get(f"/incidents/{incident['id']}/timeline").json() if e["kind"] == "note"
    ]
    assert [n["message"] for n in notes] and "failover planned" in notes[-1]["message"]

    _shot(page, artifacts / "incidents.png")
    shutil.copyfile(artifacts / "incidents.png", doc_shots / "incidents.png")

    # Closing the detail goes back to the list alone.
    page.keyboard.press("Escape")
    detail.wait_for(state="hidden", timeout=5_000)
    assert "id=" not in page.url
    assert dashboard.unexpected_problems() == []


def test_status_filter_asks_the_server(demo_url: str, dashboard: Any, api: httpx.Client) -> None:
    _ended_incident(api)
    page = dashboard.page
    page.goto(f"{demo_url}/incidents.html")
    page.wait_for_function(READY, timeout=30_000)
    with page.expect_request(lambda r: urlparse(r.url).path.endswith("/incidents")) as asked:
        page.get_by_test_id("incident-status-filter").select_option("resolved")
    assert parse_qs(urlparse(asked.value.url).query)["status"] == ["resolved"]
    # The rows of the first load stay until the answer is drawn: wait for the filtered list.
    page.wait_for_function(
        """() => {
            const rows = [...document.querySelectorAll('[data-testid="incident-row"]')];
            return rows.length > 0 && rows.every(r => r.dataset.status === "resolved");
        }""",
        timeout=10_000,
    )
    statuses = page.get_by_test_id("incident-row").evaluate_all(
        "rows => rows.map(r => r.dataset.status)"
    )
    assert statuses and set(statuses) == {"resolved"}
    total = api.get("/incidents", params={"status": "resolved"}).json()["total"]
    assert page.get_by_test_id("page-range").get_attribute("data-total") == str(total)
    assert "status=resolved" in page.url
    assert dashboard.unexpected_problems() == []


def test_a_viewer_sees_no_controls(
    demo_url: str, viewer_page: Any, api: httpx.Client, artifacts: Path
) -> None:
    incident = _ended_incident(api)
    page = viewer_page.page
    page.goto(f"{demo_url}/incidents.html?id={incident['id']}")
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_selector(f'[data-testid="incident-detail"][data-incident-id="{incident["id"]}"]')
    assert page.get_by_test_id("nav-user").inner_text().endswith("viewer")
    assert page.get_by_test_id("timeline-item").count() >= 1
    assert page.get_by_test_id("incident-controls").is_hidden()
    for testid in ("incident-acknowledge", "incident-resolve", "incident-reopen", "note-submit"):
        assert page.get_by_test_id(testid).is_hidden(), testid
    _shot(page, artifacts / "incidents-viewer.png")
    assert viewer_page.unexpected_problems() == []
