"""Fixtures for the dashboard's browser tests: a demo server and Debian's chromium.

The demo runs as a subprocess on a free port with its own data directory; chromium is driven
through Playwright's sync API. Without chromium the tests skip on a workstation and fail in
CI (where $CI is set), so a broken install can never pass unseen.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsgraph.bench.ui import CHROMIUM, CHROMIUM_ARGS

REPO_ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1400, "height": 900}
#: The demo's first admin account is created with this password.
ADMIN_PASSWORD = "browser-test-admin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_env() -> dict[str, str]:
    """Extra environment of the module's demo; a test module overrides it to configure one."""
    return {}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, demo_env: dict[str, str]) -> Iterator[str]:
    """Base URL of a fresh `opsgraph demo` (50 resources, fast steps, no automatic faults, no
    shipped remediation policies)."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OPSGRAPH_DATA_DIR": str(data_dir),
        "OPSGRAPH_AUTH__ADMIN_PASSWORD": ADMIN_PASSWORD,
        # One-minute steps at 300x: five steps a second, as the tests' waits expect.
        "OPSGRAPH_SIM__STEP_S": "60",
        **demo_env,
    }
    command = [
        sys.executable,
        "-m",
        "opsgraph",
        "demo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--resources",
        "50",
        "--fault-every",
        "0",
        "--speed",
        "300",
        "--no-remediate",  # faults stay until they expire; a module configures its own policies
    ]
    log_path = data_dir / "demo.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    pytest.fail(f"demo exited with {process.returncode}:\n{tail}")
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    pytest.fail(f"demo did not answer /health within 60 s:\n{tail}")
                time.sleep(0.25)
            yield url
        finally:
            _stop(process)


def wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)
    return value


@pytest.fixture(scope="module")
def incident_id(api: httpx.Client) -> int:
    """An incident of the module's demo (a database outage, injected here)."""
    graph = api.get("/graph").json()
    db = next(n["id"] for n in graph["nodes"] if n["kind"] == "rds")
    body = {"kind": "dependency_outage", "node": db, "duration_s": 1_800}
    assert api.post("/sim/faults", json=body).status_code == 201
    items = wait_for(lambda: api.get("/incidents").json()["items"], "an incident")
    return int(items[0]["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed (scripts/setup --test installs it)")
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserPage:
    """A page plus everything the browser complained about while it was open."""

    page: Any
    problems: list[str] = field(default_factory=list)

    def unexpected_problems(self, *allowed: str) -> list[str]:
        return [p for p in self.problems if not any(a in p for a in allowed)]


@pytest.fixture(scope="module")
def api(demo_url: str) -> Iterator[httpx.Client]:
    """An HTTP client logged in to the demo as admin."""
    with httpx.Client(base_url=demo_url, timeout=10) as client:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        response = client.post("/auth/login", json=login)
        response.raise_for_status()
        token = response.json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@contextlib.contextmanager
def logged_in(
    browser: Any,
    demo_url: str,
    user: str,
    password: str,
    *,
    viewport: dict[str, int] | None = None,
    color_scheme: str = "light",
    device_scale_factor: float = 1,
    bypass_csp: bool = False,
) -> Iterator[BrowserPage]:
    """A fresh page (light theme at 1400x900 unless told otherwise; a device scale factor of 2
    at half the width is 200 % zoom), logged in through the login page, recording console
    errors, warnings and page errors."""
    context = browser.new_context(
        bypass_csp=bypass_csp,  # only to inject a test tool (axe-core) into the page
        viewport=viewport or VIEWPORT,
        color_scheme=color_scheme,
        device_scale_factor=device_scale_factor,
    )
    page = context.new_page()
    page.goto(f"{demo_url}/login.html")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(f"{demo_url}/")
    page.close()
    page = context.new_page()
    recorded = BrowserPage(page)

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            recorded.problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: recorded.problems.append(f"page error: {error}"))
    try:
        yield recorded
    finally:
        context.close()


@pytest.fixture
def dashboard(browser: Any, demo_url: str) -> Iterator[BrowserPage]:
    """A page logged in as admin."""
    with logged_in(browser, demo_url, "admin", ADMIN_PASSWORD) as page:
        yield page


#: Password of the viewer account the `viewer_page` fixture creates.
VIEWER_PASSWORD = "browser-test-viewer"


@pytest.fixture(scope="module")
def viewer_name(api: httpx.Client) -> str:
    """A viewer account on the demo (one demo per test module), created by the admin."""
    name = "viewer1"
    body = {"username": name, "password": VIEWER_PASSWORD, "role": "viewer"}
    response = api.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "viewer"
    return name


@pytest.fixture
def viewer_page(browser: Any, demo_url: str, viewer_name: str) -> Iterator[BrowserPage]:
    """Like `dashboard`, in a second browser context logged in as a viewer."""
    with logged_in(browser, demo_url, viewer_name, VIEWER_PASSWORD) as page:
        yield page


@pytest.fixture(scope="session")
def doc_shots() -> Path:
    """Where the pictures of the docs go: `test-artifacts/docs/`, so a test run leaves the
    tree clean; `scripts/screenshots` sets OPSGRAPH_REFRESH_SCREENSHOTS=1 to refresh
    `docs/screenshots/` on purpose."""
    if os.environ.get("OPSGRAPH_REFRESH_SCREENSHOTS") == "1":
        path = REPO_ROOT / "docs" / "screenshots"
    else:
        path = REPO_ROOT / "test-artifacts" / "docs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """`test-artifacts/` at the repository root, for screenshots."""
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
