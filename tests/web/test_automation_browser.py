"""The Automation page in a real browser against a demo with a policy in approval mode: a viewer
sees the pending action without the decision buttons (and the API refuses it), an admin approves.

Writes test-artifacts/automation*.png and the docs' picture automation.png.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.browser

READY = "() => document.body.dataset.ready === 'true'"
POLICY = "approve-every-incident"
# Matches every incident the demo opens and asks an operator before telling people about it.
POLICY_YAML = f"""\
name: {POLICY}
description: ask an operator before announcing any incident
trigger:
  events: [opened, grouped, updated]
actions:
  - action: notify
    target: root
    params: {{message: "automation test: an incident on its root resource"}}
mode: approval
"""
DONE = ("running", "verifying", "succeeded", "failed", "escalated")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo of this module loads one approval-mode policy (overrides conftest's)."""
    policy_dir = tmp_path_factory.mktemp("policies")
    (policy_dir / "approve.yaml").write_text(POLICY_YAML)
    return {"OPSGRAPH_AUTOMATION__POLICY_DIR": str(policy_dir)}


def _wait(check: Any, what: str, timeout: float = 120.0) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def pending_action(api: httpx.Client) -> dict[str, Any]:
    """A pending action of the policy, after a database outage opened an incident."""
    # The first automation request loads the policies and hooks automation on the incidents.
    policies = api.get("/automation/policies")
    assert policies.status_code == 200, policies.text
    assert [p["name"] for p in policies.json()] == [POLICY]
    graph = api.get("/graph").json()
    db = next(n["id"] for n in graph["nodes"] if n["kind"] == "rds")
    # Ten simulated hours (two minutes at the demo's speed): the incident, and so the pending
    # action, outlast the browser's steps (an action whose incident resolved is not executed).
    body = {"kind": "dependency_outage", "node": db, "duration_s": 36_000}
    response = api.post("/sim/faults", json=body)
    assert response.status_code == 201, response.text

    def found() -> dict[str, Any] | None:
        # The outage's own action: another incident of the demo may resolve before approval.
        for item in api.get("/automation/pending").json()["items"]:
            incident = api.get(f"/incidents/{item['incident_id']}").json()
            if db in incident["resource_ids"] and incident["status"] != "resolved":
                return dict(item)
        return None

    action = dict(_wait(found, "a pending automation action"))
    assert action["policy"] == POLICY
    assert action["mode"] == "approval"
    assert action["incident_id"] is not None
    return action


def _shot(page: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def _row(page: Any, action_id: int) -> Any:
    return page.locator(f'[data-testid="action-row"][data-action-id="{action_id}"]')


def test_viewer_sees_pending_action_without_decision_buttons(
    demo_url: str, viewer_page: Any, pending_action: dict[str, Any], viewer_name: str
) -> None:
    page = viewer_page.page
    page.goto(f"{demo_url}/automation.html")
    page.wait_for_function(READY, timeout=30_000)
    assert page.get_attribute("body", "data-role") == "viewer"

    row = _row(page, pending_action["id"])
    row.wait_for(timeout=10_000)
    assert row.get_attribute("data-status") == "pending"
    assert row.locator('[data-testid="action-policy"]').inner_text() == POLICY
    link = row.locator('[data-testid="action-incident"]')
    assert link.get_attribute("href") == f"./incidents.html?id={pending_action['incident_id']}"
    assert "expires" in row.locator('[data-testid="action-expires"]').inner_text()
    # The decision controls exist in the page but are hidden from a viewer.
    assert page.locator('[data-testid="action-controls"]').count() >= 1
    assert page.locator('[data-testid="action-approve"]:visible').count() == 0
    assert page.locator('[data-testid="action-reject"]:visible').count() == 0
    assert page.locator('[data-testid="nav-automation"]').get_attribute("aria-current") == "page"

    # The API refuses the viewer whatever the page shows: a request with its own session.
    response = page.request.post(
        f"{demo_url}/automation/{pending_action['id']}/approve", data={"note": "viewer"}
    )
    assert response.status == 403
    assert viewer_page.unexpected_problems() == []


def test_admin_approves_a_pending_action(
    demo_url: str,
    dashboard: Any,
    api: httpx.Client,
    pending_action: dict[str, Any],
    artifacts: Path,
    doc_shots: Path,
) -> None:
    action_id = pending_action["id"]
    assert api.get(f"/automation/actions/{action_id}").json()["status"] == "pending"
    page = dashboard.page
    page.goto(f"{demo_url}/automation.html?status=pending")
    page.wait_for_function(READY, timeout=30_000)
    assert page.locator("#action-status").input_value() == "pending"
    row = _row(page, action_id)
    row.wait_for(timeout=10_000)
    controls = page.locator(f'[data-testid="action-decide-row"][data-action-id="{action_id}"]')
    controls.locator('[data-testid="action-note"]').fill("approved by the browser test")
    _shot(page, artifacts / "automation-pending.png")

    page.select_option("#action-status", "all")
    message = page.locator('[data-testid="automation-message"]')
    # While a member that just joined is being ranked, the approval is refused for the moment
    # (the action stays pending, the page says why): approve again, as an operator would.
    for _ in range(40):
        controls.locator('[data-testid="action-approve"]').click()
        message.wait_for(state="visible")
        page.wait_for_function(  # the answer to this click, not "Approving action #n…"
            "() => !document.querySelector('[data-testid=\"automation-message\"]')"
            ".textContent.startsWith('Approving')"
        )
        if "ranked again" not in message.inner_text():
            break
        time.sleep(0.5)
    page.wait_for_function(
        """(id) => {
            const sel = `[data-testid="action-row"][data-action-id="${id}"]`;
            const row = document.querySelector(sel);
            return row !== null && row.dataset.status !== "pending";
        }""",
        arg=action_id,
        timeout=30_000,
    )
    assert _row(page, action_id).get_attribute("data-status") in DONE
    assert f"Action #{action_id} approved" in message.inner_text()

    stored = api.get(f"/automation/actions/{action_id}").json()
    assert stored["status"] in DONE

    # The audit trail shows the admin's approval with its note.
    approval = page.locator('[data-testid="audit-row"]', has_text="approved by the browser test")
    approval.first.wait_for(timeout=30_000)
    assert "admin" in approval.first.inner_text()
    assert dashboard.unexpected_problems() == []
    _shot(page, artifacts / "automation.png")
    docs_shot = doc_shots / "automation.png"
    shutil.copyfile(artifacts / "automation.png", docs_shot)
