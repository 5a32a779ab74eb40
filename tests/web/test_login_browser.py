"""The login page in a real browser: sign-up (offered because the demo allows it) makes a viewer
who is logged straight in, who can log in again later; wrong passwords and clashes show the
server's message. Writes test-artifacts/login.png and the docs' picture login.png.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

NAME = "newviewer"
PASSWORD = "new-viewer-pass-1"
VIEWPORT = {"width": 1000, "height": 760}


@pytest.fixture
def anonymous_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page in a fresh context (no session), with the browser's complaints."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    try:
        yield page, problems
    finally:
        context.close()


def _unexpected(problems: list[str], *allowed: str) -> list[str]:
    return [p for p in problems if not any(a in p for a in allowed)]


def test_sign_up_then_log_in_as_the_new_viewer(
    demo_url: str,
    anonymous_page: tuple[Any, list[str]],
    api: httpx.Client,
    artifacts: Path,
    doc_shots: Path,
) -> None:
    assert api.get("/auth/config").json()["allow_signup"] is True
    page, problems = anonymous_page
    page.goto(f"{demo_url}/login.html")
    toggle = page.get_by_test_id("signup-toggle")
    toggle.wait_for(state="visible", timeout=10_000)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_test_id("signup-form").is_visible()
    assert not page.locator("#login-form").is_visible()

    # Mismatched passwords are caught before any request, naming the field.
    page.get_by_test_id("signup-username").fill(NAME)
    page.get_by_test_id("signup-password").fill(PASSWORD)
    page.get_by_test_id("signup-confirm").fill(PASSWORD + "x")
    page.get_by_test_id("signup-submit").click()
    assert "differ" in page.get_by_test_id("signup-error").inner_text()
    assert page.get_by_test_id("signup-confirm").get_attribute("aria-invalid") == "true"
    page.get_by_test_id("signup-confirm").fill(PASSWORD)
    page.screenshot(path=str(artifacts / "login.png"))
    shutil.copyfile(artifacts / "login.png", doc_shots / "login.png")

    page.get_by_test_id("signup-submit").click()
    page.wait_for_url(f"{demo_url}/", timeout=15_000)
    page.get_by_test_id("nav-user").filter(has_text="viewer").wait_for(timeout=10_000)
    assert page.get_by_test_id("nav-user").inner_text() == f"{NAME} · viewer"
    users = {u["username"]: u["role"] for u in api.get("/auth/users").json()}
    assert users[NAME] == "viewer"

    # Log out, then back in with the new account: a wrong password first.
    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{demo_url}/login.html", timeout=10_000)
    page.fill("#username", NAME)
    page.fill("#password", "not-the-password")
    page.get_by_test_id("login-submit").click()
    error = page.get_by_test_id("login-error")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"login-error\"]').textContent.length > 0",
        timeout=10_000,
    )
    assert error.inner_text()
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{demo_url}/", timeout=15_000)
    page.get_by_test_id("nav-user").filter(has_text="viewer").wait_for(timeout=10_000)
    # The refused login is logged by the browser itself; nothing else may be.
    assert _unexpected(problems, "status of 401") == []


def test_taken_name_shows_the_servers_message(
    demo_url: str, anonymous_page: tuple[Any, list[str]]
) -> None:
    page, problems = anonymous_page
    page.goto(f"{demo_url}/login.html#signup")
    page.get_by_test_id("signup-form").wait_for(state="visible", timeout=10_000)
    page.get_by_test_id("signup-username").fill("admin")
    page.get_by_test_id("signup-password").fill(PASSWORD)
    page.get_by_test_id("signup-confirm").fill(PASSWORD)
    page.get_by_test_id("signup-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"signup-error\"]').textContent.length > 0",
        timeout=10_000,
    )
    assert "admin" in page.get_by_test_id("signup-error").inner_text()
    assert page.url.endswith("/login.html#signup")
    assert _unexpected(problems, "status of 409") == []
