"""The Metrics page in a real browser against a real demo: charts with the expected band, the
URL state, the live anomaly marker of an injected fault and its tooltip.

Screenshots go to test-artifacts/; the main flow also writes the docs' picture metrics.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser

SIGNALS = ["cpu", "memory", "latency_ms", "error_rate", "request_count"]
CHARTS_READY = """() => {
  const charts = [...document.querySelectorAll('[data-testid="metric-chart"]')];
  return charts.length === 5 && charts.every(
    c => Number(c.dataset.points) >= 10 && Number(c.dataset.band) >= 1);
}"""
NEW_MARKER = """known => [...document.querySelectorAll('[data-testid="anomaly-marker"]')]
  .some(m => !known.includes(m.dataset.anomalyId))"""


def _ec2(api: httpx.Client) -> str:
    """A quiet EC2 instance: cpu_hog makes its CPU anomalous."""
    nodes = api.get("/graph").json()["nodes"]
    quiet = [n for n in nodes if n["kind"] == "ec2" and not n.get("anomalous")]
    return (quiet or [n for n in nodes if n["kind"] == "ec2"])[0]["id"]


def _markers(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        '[data-testid="anomaly-marker"]', "ms => ms.map(m => m.dataset.anomalyId)"
    )


def _shot(page: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_pick_a_resource_see_band_and_a_live_anomaly_marker(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path, doc_shots: Path
) -> None:
    page = dashboard.page
    node = _ec2(api)
    page.goto(f"{demo_url}/metrics.html")
    assert page.get_by_test_id("nav-metrics").get_attribute("aria-current") == "page"
    page.get_by_test_id("resource-input").fill(node)
    page.get_by_test_id("metrics-apply").click()
    page.wait_for_function(CHARTS_READY, timeout=20_000)
    charts = page.get_by_test_id("metric-chart")
    assert [charts.nth(i).get_attribute("data-metric") for i in range(5)] == SIGNALS
    for i in range(5):
        chart = charts.nth(i)
        assert chart.locator("path.line").get_attribute("d")
        assert chart.locator("path.band").get_attribute("d")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"resource": [node], "range": ["1h"]}
    page.wait_for_function("() => document.body.querySelector('.conn').dataset.state === 'live'")
    _shot(page, artifacts / "metrics-1-loaded.png")

    # A fault on the resource: a marker appears live (no reload), with its tooltip.
    known = _markers(page)
    fault = {"kind": "cpu_hog", "node": node, "duration_s": 7200}
    response = api.post("/sim/faults", json=fault)
    assert response.status_code == 201, response.text
    page.wait_for_function(NEW_MARKER, arg=known, timeout=45_000)
    marker = page.locator('[data-testid="anomaly-marker"]').last
    assert marker.get_attribute("data-severity") in {"low", "medium", "high", "critical"}
    marker.focus()
    tooltip = page.get_by_test_id("chart-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "anomaly on" in tooltip.inner_text()
    assert page.get_by_test_id("metrics-anomaly").count() >= 1
    _shot(page, artifacts / "metrics.png")
    page.mouse.move(5, 5)
    marker.blur()
    _shot(page, doc_shots / "metrics.png")
    assert dashboard.unexpected_problems() == []


def test_url_state_range_and_bad_input(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path
) -> None:
    page = dashboard.page
    node = _ec2(api)
    page.goto(f"{demo_url}/metrics.html?resource={node}&range=6h")
    page.wait_for_function(CHARTS_READY, timeout=20_000)
    assert page.get_by_test_id("range-select").input_value() == "6h"
    assert page.get_by_test_id("resource-input").input_value() == node

    # Switching the range refetches at once and keeps it in the URL.
    page.get_by_test_id("range-select").select_option("1h")
    page.wait_for_function("() => location.search.includes('range=1h')", timeout=5_000)

    # Custom: To before From is refused with a message naming the field.
    page.get_by_test_id("range-select").select_option("custom")
    page.get_by_test_id("range-start").fill("2030-01-02T10:00")
    page.get_by_test_id("range-end").fill("2030-01-02T09:00")
    page.get_by_test_id("metrics-apply").click()
    message = page.get_by_test_id("metrics-message")
    message.wait_for(state="visible", timeout=5_000)
    assert "To" in message.inner_text()
    assert page.get_by_test_id("range-end").get_attribute("aria-invalid") == "true"

    # An unknown resource is refused before any request.
    page.get_by_test_id("range-select").select_option("24h")
    page.get_by_test_id("resource-input").fill("no-such-resource")
    page.get_by_test_id("metrics-apply").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"metrics-message\"]')"
        ".textContent.includes('no-such-resource')",
        timeout=5_000,
    )
    assert page.get_by_test_id("resource-input").get_attribute("aria-invalid") == "true"

    # The dark theme draws the same charts.
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.wait_for_function(CHARTS_READY, timeout=5_000)
    _shot(page, artifacts / "metrics-2-dark.png")
    assert dashboard.unexpected_problems() == []


def test_the_dashboards_node_panel_links_here(
    demo_url: str, dashboard: Any, api: httpx.Client, artifacts: Path
) -> None:
    page = dashboard.page
    node = _ec2(api)
    page.goto(f"{demo_url}/")
    page.wait_for_function("() => Boolean(window.opsgraph && window.opsgraph.graphReady)")
    page.fill("#find-input", node)
    page.get_by_test_id("find-form").locator("button[type=submit]").click()
    page.get_by_test_id("node-panel").wait_for(state="visible", timeout=10_000)
    page.get_by_test_id("node-metrics-link").wait_for(state="visible", timeout=5_000)
    page.screenshot(path=str(artifacts / "metrics-0-panel-link.png"))
    page.get_by_test_id("node-metrics-link").click()
    page.wait_for_url(f"{demo_url}/metrics.html?resource={node}&range=6h", timeout=10_000)
    page.wait_for_function(CHARTS_READY, timeout=20_000)
    assert page.get_by_test_id("range-select").input_value() == "6h"
    assert dashboard.unexpected_problems() == []
