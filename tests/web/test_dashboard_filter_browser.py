"""The dashboard's graph filter (kind, region, tag) and headline counters, in a real browser."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

READY = "() => Boolean(window.opsgraph && window.opsgraph.graphReady)"


def test_filter_by_kind_region_and_tag(demo_url: str, dashboard: Any, api: httpx.Client) -> None:
    page = dashboard.page
    page.goto(demo_url + "/")
    page.wait_for_function(READY, timeout=30_000)
    nodes = api.get("/graph").json()["nodes"]
    kind = nodes[0]["kind"]
    want = sum(1 for n in nodes if n["kind"] == kind)
    page.select_option("[data-testid=filter-kind]", kind)
    count = page.locator("[data-testid=filter-count]")
    count.filter(has_text=f"{want} of {len(nodes)} shown").wait_for(timeout=5_000)
    tagged = next((n for n in nodes if n["tags"]), None)
    if tagged is not None:
        key, value = next(iter(tagged["tags"].items()))
        page.select_option("[data-testid=filter-kind]", "")
        page.fill("[data-testid=filter-tag]", f"{key}={value}")
        n_tag = sum(1 for n in nodes if n["tags"].get(key) == value)
        count.filter(has_text=f"{n_tag} of {len(nodes)} shown").wait_for(timeout=5_000)
    page.fill("[data-testid=filter-tag]", "")
    page.select_option("[data-testid=filter-kind]", "")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=filter-count]').textContent === ''"
    )
    # Headline counters: incidents and actions today come from the API.
    page.wait_for_function(
        "() => /^\\d+$/.test(document.querySelector('[data-testid=count-incidents]').textContent)"
    )
    page.wait_for_function(
        "() => /^\\d+$/.test(document.querySelector('[data-testid=count-actions]').textContent)"
    )
    user = page.locator("[data-testid=nav-user]")
    user.filter(has_text="admin · admin").wait_for(timeout=5_000)
    assert dashboard.unexpected_problems() == []
