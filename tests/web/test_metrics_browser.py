"""The Metrics page in a real browser against a real demo: charts with the expected band, the
URL state, the live anomaly marker of an injected fault and its tooltip.

Screenshots go to test-artifacts/; the main flow also writes the docs' picture metrics.png.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.web.conftest import ADMIN_PASSWORD, logged_in
from tests.web.test_layout_browser import OVERFLOW, SCREENS

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


#: A resource fed as Prometheus feeds one: a Go process' runtime metrics, no simulated signal.
PROM_NODE = "prom-api-1"
PROM_SERIES = {
    "go_goroutines": lambda i: 40.0 + 6 * math.sin(i / 7),
    "go_threads": lambda i: 12.0 + (i % 4),
    "process_resident_memory_bytes": lambda i: 5.0e7 + 2.0e5 * (i % 9),
}
PROM_POINTS = 120
LOCAL_INPUT = """ts => {
  const d = new Date(ts * 1000), p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
    `T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""
FOUND = """n => {
  const cs = [...document.querySelectorAll('[data-testid="metric-chart"]')];
  return cs.length === 1 && cs[0].dataset.metric === 'go_goroutines'
    && Number(cs[0].dataset.points) === n && Number(cs[0].dataset.band) >= 60;
}"""
OVERLAID = """n => {
  const cs = [...document.querySelectorAll('[data-testid="metric-chart"]')];
  return cs.length === 1 && cs[0].dataset.metric === 'overlay'
    && cs[0].dataset.metrics.split(' ').length === n && Number(cs[0].dataset.band) >= 60;
}"""
POINTS = (
    """n => document.querySelector('[data-testid="metric-chart"]').dataset.points === String(n)"""
)


@pytest.fixture(scope="module")
def prom_last_ts(api: httpx.Client) -> float:
    """Register PROM_NODE and push its series, a point a minute up to the demo's clock (the
    24 h preset keeps them in view while the fast demo clock runs on). Returns the last ts."""
    node = {"id": PROM_NODE, "name": "prom api", "tags": {"job": "api", "instance": "10.1.2.3"}}
    assert api.post("/resources", json={"resources": [node]}).status_code == 200
    last = float(int(api.get("/health").json()["latest_ts"]) // 60 * 60)
    first = last - 60 * (PROM_POINTS - 1)
    samples = [
        {"resource_id": PROM_NODE, "metric": metric, "ts": first + 60 * i, "value": f(i)}
        for metric, f in PROM_SERIES.items()
        for i in range(PROM_POINTS)
    ]
    response = api.post("/ingest/samples", json={"samples": samples})
    assert response.status_code == 200, response.text
    return last


def _charts(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        '[data-testid="metric-chart"]', "cs => cs.map(c => ({...c.dataset}))"
    )


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_any_series_found_charted_with_its_band_overlaid_and_over_a_free_range(
    demo_url: str, dashboard: Any, prom_last_ts: float, artifacts: Path
) -> None:
    page = dashboard.page
    last = prom_last_ts
    page.goto(f"{demo_url}/metrics.html?range=24h")
    page.wait_for_selector('[data-testid="nav-user"]:not(:empty)', timeout=15_000)

    # The finder: search by part of the metric name, choose with the keyboard.
    finder = page.get_by_label("Find a series")
    finder.fill("goroutines")
    result = page.locator(f'[data-testid="series-result"][data-resource="{PROM_NODE}"]')
    result.wait_for(timeout=10_000)
    assert finder.get_attribute("aria-expanded") == "true"
    assert "go_goroutines" in result.inner_text() and PROM_NODE in result.inner_text()
    index = page.eval_on_selector_all(
        '[data-testid="series-result"]',
        f"rs => rs.findIndex(r => r.dataset.resource === '{PROM_NODE}')",
    )
    for _ in range(index + 1):
        finder.press("ArrowDown")
    assert finder.get_attribute("aria-activedescendant") == f"series-result-{index}"
    finder.press("Enter")
    page.wait_for_function(FOUND, arg=PROM_POINTS, timeout=15_000)
    # Its own catalogue, no panel for the signals it does not have.
    options = page.get_by_test_id("series-option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == sorted(
        PROM_SERIES
    )
    chart = page.get_by_test_id("metric-chart")
    assert chart.locator("path.line").get_attribute("d")
    assert chart.locator("path.band").get_attribute("d")
    assert "robust_z" in page.get_by_test_id("band-label").inner_text()
    assert _query(page) == {"resource": [PROM_NODE], "metrics": ["go_goroutines"], "range": ["24h"]}
    _shot(page, artifacts / "metrics-3-found.png")

    # A tag finds the resource's series too.
    finder.fill("job=api")
    page.locator('[data-testid="series-result"][data-metric="go_threads"]').wait_for(timeout=10_000)
    finder.press("Escape")
    assert page.get_by_test_id("series-results").is_hidden()

    # Overlay: a second series of the same unit shares the axis, one in bytes is normalised.
    page.locator('[data-testid="series-option"][value="go_threads"]').check()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"metric-chart\"]').length === 2"
    )
    page.get_by_test_id("overlay-toggle").check()
    page.wait_for_function(OVERLAID, arg=2, timeout=10_000)
    overlay = page.get_by_test_id("metric-chart")
    assert overlay.get_attribute("data-normalised") == "false"
    assert overlay.get_by_test_id("legend-item").count() == 2
    page.locator('[data-testid="series-option"][value="process_resident_memory_bytes"]').check()
    page.wait_for_function(OVERLAID, arg=3, timeout=10_000)
    assert overlay.get_attribute("data-normalised") == "true"
    assert overlay.locator("path.band").count() == 3
    assert all(overlay.locator("path.band").nth(i).get_attribute("d") for i in range(3))
    colours = overlay.locator("path.line").evaluate_all(
        "ls => ls.map(l => getComputedStyle(l).stroke)"
    )
    assert len(set(colours)) == 3, colours
    assert _query(page) == {
        "resource": [PROM_NODE],
        "metrics": ["go_goroutines,go_threads,process_resident_memory_bytes"],
        "range": ["24h"],
        "overlay": ["1"],
    }
    _shot(page, artifacts / "metrics-4-overlay.png")

    # A free range, in local time: only the points inside it.
    start, end = last - 60 * 90, last - 60 * 30
    page.get_by_test_id("range-start").fill(page.evaluate(LOCAL_INPUT, start))
    page.get_by_test_id("range-end").fill(page.evaluate(LOCAL_INPUT, end))
    assert page.get_by_test_id("range-select").input_value() == "custom"
    page.get_by_test_id("metrics-apply").click()
    page.wait_for_function(POINTS, arg=3 * 61, timeout=10_000)
    query = _query(page)
    assert query["range"] == ["custom"]
    assert (float(query["start"][0]), float(query["end"][0])) == (start, end)
    assert "live" not in page.get_by_test_id("metrics-range").inner_text()

    # The link reopens the same view, in the dark theme too.
    link = page.url
    page.goto(link)
    page.wait_for_function(OVERLAID, arg=3, timeout=15_000)
    assert page.get_by_test_id("metric-chart").get_attribute("data-points") == str(3 * 61)
    assert page.get_by_test_id("overlay-toggle").is_checked()
    page.get_by_test_id("theme-toggle").click()
    page.wait_for_function(OVERLAID, arg=3, timeout=5_000)
    _shot(page, artifacts / "metrics-5-overlay-dark.png")
    assert dashboard.unexpected_problems() == []


@pytest.mark.parametrize(("width", "scale"), SCREENS, ids=lambda v: str(v))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_full_view_fits_every_screen(
    browser: Any,
    demo_url: str,
    api: httpx.Client,
    prom_last_ts: float,
    width: int,
    scale: int,
    scheme: str,
    artifacts: Path,
) -> None:
    """The layout test's checks with everything shown: the picker of eight series, an overlay
    of six with its legend, the finder's results open."""
    node = _ec2(api)
    view = f"resource={node}&metrics=cpu,memory,latency_ms,error_rate,request_count,net_in"
    with logged_in(
        browser,
        demo_url,
        "admin",
        ADMIN_PASSWORD,
        viewport={"width": width, "height": 900 // scale},
        color_scheme=scheme,
        device_scale_factor=scale,
    ) as recorded:
        page = recorded.page
        page.goto(f"{demo_url}/metrics.html?{view}&range=6h&overlay=1")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"metric-chart\"]')"
            "?.dataset.metrics.split(' ').length === 6",
            timeout=20_000,
        )
        page.get_by_test_id("series-find").fill(PROM_NODE)
        page.get_by_test_id("series-result").first.wait_for(timeout=10_000)
        client = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= client
        assert page.evaluate(OVERFLOW) == [], f"{width}px x{scale} {scheme}"
        for testid in ("series-results", "series-picker", "metric-chart", "chart-legend"):
            box = page.get_by_test_id(testid).first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= client + 1, (
                f"{testid} at {width}px x{scale}: {box}"
            )
        if scheme == "light":
            page.screenshot(path=str(artifacts / f"metrics-fit-{width}x{scale}.png"))
        assert recorded.unexpected_problems() == []
