"""The Settings page in a real browser against a demo configured with secrets: every section
renders, receivers and plug-ins show, and no secret reaches the page.

The main flow writes test-artifacts/settings.png and the docs' picture settings.png.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: conftest.ADMIN_PASSWORD: the demo's admin password, a secret too.
ADMIN_PASSWORD = "browser-test-admin"
SLACK_TOKEN = "browsertokenQ7x1"
SECRETS = {
    "OPSGRAPH_AUTH__SECRET_KEY": "settings-browser-jwt-key-6c1f",
    "OPSGRAPH_SOURCES__PROMETHEUS__BEARER_TOKEN": "browser-prom-bearer-55aa",
    "OPSGRAPH_NOTIFY__RECEIVERS": json.dumps(
        [
            {
                "name": "chat",
                "type": "slack",
                "url": f"https://hooks.slack.com/services/T1/B2/{SLACK_TOKEN}",
            },
            {
                "name": "mail",
                "type": "email",
                "host": "smtp.example.com",
                "username": "opsgraph",
                "password": "browser-smtp-pass-93",
                "sender": "ops@example.com",
                "to": ["oncall@example.com"],
            },
        ]
    ),
    # A route that matches nothing: the table shows, and nothing is ever sent.
    "OPSGRAPH_NOTIFY__ROUTES": json.dumps(
        [{"receiver": "chat", "matchers": ['resource="no-such-resource"']}]
    ),
}
HIDDEN = [
    ADMIN_PASSWORD,
    SLACK_TOKEN,
    "settings-browser-jwt-key-6c1f",
    "browser-prom-bearer-55aa",
    "browser-smtp-pass-93",
]


@pytest.fixture(scope="module")
def secret_env() -> Iterator[None]:
    """Secrets in the environment the demo starts with (restored afterwards)."""
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def demo_url(secret_env: None, demo_url: str) -> str:
    """The shared demo fixture, started with the secrets above."""
    return demo_url


def test_sections_render_and_no_secret_reaches_the_page(
    demo_url: str, dashboard: Any, artifacts: Path, doc_shots: Path
) -> None:
    page = dashboard.page
    page.goto(f"{demo_url}/settings.html")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert page.get_by_test_id("nav-settings").get_attribute("aria-current") == "page"
    sections = page.eval_on_selector_all(
        '[data-testid="settings-section"]', "s => s.map(n => n.dataset.section)"
    )
    assert {"sources", "detectors", "policies", "notify", "auth", "plugins"} <= set(sections)
    assert page.get_by_test_id("policies-status").inner_text() == "none configured"

    receivers = page.get_by_test_id("receivers")
    assert "https://hooks.slack.com" in receivers.inner_text()
    assert "smtp.example.com" in receivers.inner_text()
    assert "no-such-resource" in page.get_by_test_id("routes").inner_text()
    auth = page.locator('[data-section="auth"]')
    assert auth.locator('[data-key="secret_key"] [data-testid="secret"]').count() == 1
    assert auth.locator('[data-key="admin_password"] [data-testid="secret"]').count() == 1
    plugins = page.eval_on_selector_all(
        '[data-testid="plugin"] strong', "s => s.map(n => n.textContent)"
    )
    assert {"robust_z", "iforest", "graphsage", "slack"} <= set(plugins)

    html = page.content()
    assert [s for s in HIDDEN if s in html] == []
    # The table of contents reaches a section by keyboard.
    page.get_by_role("link", name="Notifications").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash === '#notify'")

    page.screenshot(path=str(artifacts / "settings.png"))
    shutil.copyfile(artifacts / "settings.png", doc_shots / "settings.png")
    assert dashboard.unexpected_problems() == []


def test_the_api_answer_has_no_secret_either(demo_url: str, api: Any) -> None:
    response = api.get("/settings")
    assert response.status_code == 200
    assert [s for s in HIDDEN if s in response.text] == []


def test_a_viewer_sees_the_settings_too(demo_url: str, viewer_page: Any) -> None:
    page = viewer_page.page
    page.goto(f"{demo_url}/settings.html")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert "viewer" in page.get_by_test_id("nav-user").inner_text()
    assert page.locator('[data-section="notify"] [data-testid="receivers"]').count() == 1
    assert [s for s in HIDDEN if s in page.content()] == []
    assert viewer_page.unexpected_problems() == []
