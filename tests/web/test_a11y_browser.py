"""Every console page is accessible by axe-core's rules (the npm package, installed by
`scripts/setup --test` into .venv/npm and injected into each page): no serious or critical
violation (labels, names, contrast, ARIA, landmarks), light and dark; and the keyboard reaches
the skip link and the page links first.

Writes test-artifacts/a11y.json: every violation of any impact, per page and scheme.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import ADMIN_PASSWORD, logged_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / ".venv" / "npm" / "node_modules" / "axe-core"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def _axe_script() -> str:
    script = AXE / "axe.min.js"
    assert script.is_file(), f"{script} is missing: run scripts/setup --test"
    return str(script)


PAGES = [
    ("dashboard", "/"),
    ("alerts", "/alerts.html"),
    ("incidents", "/incidents.html?id={incident}"),
    ("metrics", "/metrics.html"),
    ("automation", "/automation.html"),
    ("settings", "/settings.html"),
    ("not-found", "/no/such/page"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_violation_on_any_page(
    browser: Any, demo_url: str, incident_id: int, scheme: str, artifacts: Path
) -> None:
    script = _axe_script()
    report: dict[str, Any] = {}
    with logged_in(
        browser, demo_url, "admin", ADMIN_PASSWORD, color_scheme=scheme, bypass_csp=True
    ) as recorded:
        page = recorded.page
        for name, path in PAGES:
            page.goto(f"{demo_url}{path.format(incident=incident_id)}")
            if name != "not-found":
                page.wait_for_selector('[data-testid="nav-user"]:not(:empty)', timeout=15_000)
            page.wait_for_timeout(800)  # live data and layout settle
            page.add_script_tag(path=script)
            report[name] = page.evaluate(RUN_AXE)
    # The login page, signed out.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{demo_url}/login.html")
        page.wait_for_selector("form")
        page.add_script_tag(path=script)
        report["login"] = page.evaluate(RUN_AXE)
    finally:
        context.close()
    artifacts.mkdir(parents=True, exist_ok=True)
    out = artifacts / "a11y.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps(previous | {scheme: report}, indent=1))
    blocking = {
        name: [v for v in violations if v["impact"] in BLOCKING]
        for name, violations in report.items()
    }
    assert not any(blocking.values()), json.dumps(
        {k: v for k, v in blocking.items() if v}, indent=1
    )


def test_the_keyboard_reaches_the_skip_link_then_the_pages(dashboard: Any, demo_url: str) -> None:
    page = dashboard.page
    page.goto(f"{demo_url}/alerts.html")
    page.wait_for_selector('[data-testid="nav-user"]:not(:empty)', timeout=15_000)
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.className + ' ' + document.activeElement.href")
    assert "skip-link" in first
    seen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.dataset.testid || ''"))
    assert {"nav-dashboard", "nav-alerts", "nav-incidents", "nav-metrics"} <= set(seen), seen
    # Focus is visible: the focused link draws an outline.
    page.get_by_test_id("nav-metrics").focus()
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' '"
        " + getComputedStyle(document.activeElement).boxShadow"
    )
    assert outline.split()[0] != "none" or "rgb" in outline, outline
