"""The dashboard in a real browser against a real demo: graph, live anomaly, node panel, form.

Screenshots of each stage go to test-artifacts/; the main flow also writes the
docs' picture dashboard.png (see the doc_shots fixture).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

READY = "() => Boolean(window.opsgraph && window.opsgraph.graphReady)"
ANY_HIGHLIGHTED = """ids => ids.some(id => {
  const s = window.opsgraph.nodeState(id);
  return Boolean(s && s.anomalous && ["medium", "high", "critical"].includes(s.severity));
})"""
NEW_ALERT = """known => [...document.querySelectorAll('[data-testid="alert-item"]')]
  .some(li => !known.includes(li.dataset.anomalyId))"""
FORM_ERROR = """() => document.querySelector('[data-testid="fault-message"]')
  .classList.contains("error")"""
CHARTS_FILLED = """() => {
  const charts = [...document.querySelectorAll('[data-testid="node-chart"]')];
  return charts.length === 5 && charts.every(c => Number(c.dataset.points) >= 2);
}"""


def _open(dashboard: Any, url: str) -> Any:
    page = dashboard.page
    page.goto(url + "/")
    page.wait_for_function(READY, timeout=30_000)
    return page


def _alert_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        '[data-testid="alert-item"]', "items => items.map(li => li.dataset.anomalyId)"
    )


def _pick_target(graph: dict[str, Any]) -> tuple[str, str]:
    """(fault kind, node): cpu_hog on an EC2 instance, else an outage of a database."""
    nodes = [n for n in graph["nodes"] if not n.get("anomalous")] or graph["nodes"]
    for kind, fault in (("ec2", "cpu_hog"), ("rds", "dependency_outage")):
        for node in nodes:
            if node["kind"] == kind:
                return fault, node["id"]
    return "cpu_hog", nodes[0]["id"]


def _shot(page: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def test_live_fault_is_highlighted_and_inspectable(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path, doc_shots: Path
) -> None:
    page = _open(dashboard, demo_url)
    assert page.evaluate("window.opsgraph.nodeCount") == 50
    page.wait_for_function("() => window.opsgraph.connection === 'live'", timeout=15_000)
    assert page.get_by_test_id("conn-state").get_attribute("data-state") == "live"
    assert page.get_by_test_id("count-resources").inner_text() == "50"
    _shot(page, artifacts / "dashboard-1-loaded.png")

    graph = api.get("/graph").json()
    kind, node = _pick_target(graph)
    known_alerts = _alert_ids(page)
    # Two simulated hours (about 24 s at --speed 300): still on when the node is clicked.
    fault_body = {"kind": kind, "node": node, "duration_s": 7200}
    response = api.post("/sim/faults", json=fault_body)
    assert response.status_code == 201, response.text
    fault = response.json()
    watched = list(dict.fromkeys([node, *fault.get("affected", [])]))

    page.wait_for_function(ANY_HIGHLIGHTED, arg=watched, timeout=10_000)
    page.wait_for_function(NEW_ALERT, arg=known_alerts, timeout=10_000)
    highlighted = page.evaluate(
        "ids => ids.find(id => window.opsgraph.nodeState(id).anomalous)", watched
    )
    state = page.evaluate("id => window.opsgraph.nodeState(id)", highlighted)
    assert state["anomalous"] is True
    assert state["severity"] in {"medium", "high", "critical"}
    first_alert = page.get_by_test_id("alert-item").first
    assert first_alert.get_attribute("data-severity") in {"low", "medium", "high", "critical"}
    _shot(page, artifacts / "dashboard-2-anomaly.png")

    # Click the highlighted node itself, once the layout has stopped moving it.
    page.wait_for_function("() => window.opsgraph.settled", timeout=15_000)
    # No two node labels overlap (with nothing selected or hovered).
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    boxes = page.evaluate("window.opsgraph.labelBoxes()")
    assert boxes, "no node label was drawn"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"labels overlap: {a} and {b}"
    position = page.evaluate("id => window.opsgraph.nodePosition(id)", highlighted)
    covering = page.evaluate(
        "p => document.elementFromPoint(p.x, p.y)?.dataset.testid ?? null", position
    )
    if covering != "graph-canvas":  # e.g. under the legend: fold it away first
        page.locator('[data-testid="legend"] summary').click()
        position = page.evaluate("id => window.opsgraph.nodePosition(id)", highlighted)
    page.mouse.click(position["x"], position["y"])

    panel = page.get_by_test_id("node-panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.get_attribute("data-resource-id") == highlighted
    assert page.evaluate("window.opsgraph.selectedId") == highlighted
    assert page.get_by_test_id("node-chart").count() == 5
    page.wait_for_function(CHARTS_FILLED, timeout=15_000)
    assert page.get_by_test_id("node-severity").get_attribute("data-anomalous") == "true"
    _shot(page, artifacts / "dashboard-3-panel.png")

    # Explain the node's newest anomaly: root causes, cascade path on the graph, importance.
    explain_button = page.get_by_test_id("explain-btn").first
    explain_button.wait_for(state="visible", timeout=15_000)
    explain_button.click()
    section = page.get_by_test_id("explain")
    section.wait_for(state="visible", timeout=5_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"explain-summary\"]').textContent"
        ".includes('likely root cause')",
        timeout=15_000,
    )
    hypotheses = page.get_by_test_id("hypothesis")
    assert hypotheses.count() >= 1
    assert page.get_by_test_id("importance-bar").count() >= 1
    path = page.evaluate("window.opsgraph.cascadePath")
    assert path and path[0] == hypotheses.first.get_attribute("data-node")
    _shot(page, artifacts / "dashboard-4-explain.png")

    # A few more steps so the charts show the fault's effect, then the picture for the docs
    # (with the pointer off the canvas, so no tooltip hides the node).
    page.mouse.move(700, 20)
    time.sleep(3)
    _shot(page, doc_shots / "dashboard.png")

    assert dashboard.problems == []


def test_alert_click_selects_node_and_form_reports_api_errors(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path
) -> None:
    page = _open(dashboard, demo_url)

    # An alert (left by the previous test, or made now) selects its resource when clicked.
    if not _alert_ids(page):
        graph = api.get("/graph").json()
        kind, node = _pick_target(graph)
        api.post("/sim/faults", json={"kind": kind, "node": node})
        page.get_by_test_id("alert-item").first.wait_for(timeout=20_000)
    # Pinned by its id: `.first` would resolve again at the click, and a newer alert may have
    # arrived on top in between.
    anomaly_id = page.get_by_test_id("alert-item").first.get_attribute("data-anomaly-id")
    alert = page.locator(f'[data-testid="alert-item"][data-anomaly-id="{anomaly_id}"]')
    resource = alert.get_attribute("data-resource-id")
    alert.get_by_role("button").click()
    panel = page.get_by_test_id("node-panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.get_attribute("data-resource-id") == resource
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden", timeout=5_000)

    # The fault form shows the API's own message, naming the field.
    page.get_by_test_id("fault-kind").select_option("cpu_hog")
    page.get_by_test_id("fault-node").fill("no-such-resource")
    page.get_by_test_id("fault-submit").click()
    message = page.get_by_test_id("fault-message")
    message.wait_for(state="visible")
    page.wait_for_function(FORM_ERROR, timeout=10_000)
    assert "node" in message.inner_text()
    assert page.get_by_test_id("fault-node").get_attribute("aria-invalid") == "true"

    # The theme toggle flips to dark and back.
    toggle = page.get_by_test_id("theme-toggle")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    _shot(page, artifacts / "dashboard-4-dark-form-error.png")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    # The refused POST is logged by the browser itself; nothing else may be.
    assert dashboard.unexpected_problems("status of 4") == []
