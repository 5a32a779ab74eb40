"""Every console page fits the screen: no sideways scroll of the page and no box that hides
part of its content behind a scroll bar, at 1280, 1440 and 1920 px and at 200 % zoom (a
1280 px screen), light and dark; the regions that matter are on screen. Also: the whole row
opens an incident, an unknown incident shows no controls, an unknown page is a page.

Writes test-artifacts/layout-<width>-<page>.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import ADMIN_PASSWORD, logged_in, wait_for

pytestmark = pytest.mark.browser

READY = "() => document.body.dataset.ready === 'true'"
#: (CSS width, device scale factor): 200 % zoom on a 1280 px screen is 640 CSS px at 2x.
SCREENS = [(1280, 1), (1440, 1), (1920, 1), (640, 2)]
#: Boxes whose hidden overflow is by design: screen-reader text, an ellipsis with the full
#: text in its title, a table's header row while the table is stacked into cards.
ALLOWED = (
    "el.classList.contains('visually-hidden') || el.closest('.visually-hidden')"
    " || el.classList.contains('alert-resource') || el.tagName === 'THEAD'"
)
OVERFLOW = f"""() => {{
  const out = [];
  for (const el of document.querySelectorAll('body *')) {{
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden' || el.closest('[hidden]')) continue;
    if (el.clientWidth === 0 || el.tagName === 'svg' || el.closest('svg')) continue;
    if ({ALLOWED}) continue;
    if (s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) {{
      const name = el.dataset.testid || el.className || el.tagName;
      out.push(name + ' ' + el.scrollWidth + '>' + el.clientWidth);
    }}
  }}
  return out;
}}"""


def _pages(incident: int) -> list[tuple[str, str, list[str]]]:
    """(name, path, selectors that must be on screen)."""
    return [
        ("dashboard", "/", ['[data-testid="nav-user"]', ".counters", ".sidebar", ".graph-stage"]),
        ("alerts", "/alerts.html", ['[data-testid="nav-user"]', "table.data-table"]),
        (
            "incidents",
            f"/incidents.html?id={incident}",
            ['[data-testid="incident-detail"]', '[data-testid="incident-row"]'],
        ),
        ("metrics", "/metrics.html", ['[data-testid="nav-user"]']),
        ("automation", "/automation.html", ['[data-testid="nav-user"]']),
        ("settings", "/settings.html", ['[data-testid="nav-user"]']),
    ]


@pytest.mark.parametrize(("width", "scale"), SCREENS, ids=lambda v: str(v))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_fits_the_screen(
    browser: Any,
    demo_url: str,
    incident_id: int,
    width: int,
    scale: int,
    scheme: str,
    artifacts: Path,
) -> None:
    viewport = {"width": width, "height": 900 // scale}
    with logged_in(
        browser,
        demo_url,
        "admin",
        ADMIN_PASSWORD,
        viewport=viewport,
        color_scheme=scheme,
        device_scale_factor=scale,
    ) as recorded:
        page = recorded.page
        for name, path, regions in _pages(incident_id):
            page.goto(f"{demo_url}{path}")
            page.wait_for_selector('[data-testid="nav-user"]:not(:empty)', timeout=15_000)
            page.wait_for_timeout(600)  # live data and layout settle
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, f"{name} at {width}px x{scale} {scheme}: {scroll} > {client}"
            assert page.evaluate(OVERFLOW) == [], f"{name} at {width}px x{scale} {scheme}"
            for selector in regions:
                box = page.locator(selector).first.bounding_box()
                assert box is not None, f"{name}: {selector} is not shown"
                assert box["x"] >= 0 and box["x"] + box["width"] <= client + 1, (
                    f"{name} at {width}px: {selector} runs off screen ({box})"
                )
            # The user block stays on one line.
            user = page.locator('[data-testid="nav-user"]').bounding_box()
            assert user is not None and user["height"] < 30, f"{name}: the user name wraps"
            if scheme == "light":
                artifacts.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(artifacts / f"layout-{width}x{scale}-{name}.png"))


def test_rows_open_incidents_and_unknown_ones_have_no_controls(
    dashboard: Any, demo_url: str, incident_id: int
) -> None:
    page = dashboard.page
    page.goto(f"{demo_url}/incidents.html")
    page.wait_for_function(READY, timeout=30_000)
    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
    row.locator("td.resource").click()  # not the title link: any cell of the row
    page.wait_for_selector(f'[data-testid="incident-detail"][data-incident-id="{incident_id}"]')
    page.goto(f"{demo_url}/incidents.html?id=999999")
    page.wait_for_function(READY, timeout=30_000)
    title = page.get_by_test_id("incident-title")
    wait_for(lambda: title.inner_text() == "Incident #999999 not found", "the not-found title", 10)
    assert page.get_by_test_id("incident-message").inner_text().startswith("There is no incident")
    assert not page.get_by_test_id("incident-controls").is_visible()
    assert not page.get_by_test_id("incident-timeline").is_visible()


def test_an_unknown_page_is_a_page(dashboard: Any, demo_url: str) -> None:
    page = dashboard.page
    response = page.goto(f"{demo_url}/no/such/page")
    assert response is not None and response.status == 404
    assert page.get_by_test_id("not-found").is_visible()
    page.get_by_role("link", name="Incidents").click()
    page.wait_for_url(f"{demo_url}/incidents.html")
