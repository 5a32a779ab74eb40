"""Tests of the automation actions in the store: a key claimed once, conditional updates,
counts for guardrails, and the automation audit page. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.store import Store
from opsgraph.store._automation import ActionStatus, AutomationAction


def _action(key: str, target: str = "i1", ts: float = 100.0, **kw: object) -> AutomationAction:
    fields: dict[str, object] = {
        "key": key,
        "ts": ts,
        "action": "reboot_instance",
        "target": target,
        "executor": "sim",
        "mode": "auto",
        "status": ActionStatus.RUNNING,
        "policy": "p",
    }
    return AutomationAction.model_validate(fields | kw)


def test_a_key_is_claimed_once(store: Store) -> None:
    first = store.claim_action(_action("k1", params={"count": 2}))
    assert first is not None and first.id is not None and first.created_ts > 0
    assert store.claim_action(_action("k1", target="other")) is None
    found = store.find_action("k1")
    assert found is not None and (found.id, found.target, found.params) == (
        first.id,
        "i1",
        {"count": 2},
    )
    assert store.find_action("k2") is None
    with pytest.raises(InvalidInputError):
        store.claim_action(first)


def test_updates_can_require_a_status(store: Store) -> None:
    saved = store.claim_action(_action("k", status=ActionStatus.PENDING))
    assert saved is not None and saved.id is not None
    running = store.update_action(
        saved.id, expect=[ActionStatus.PENDING], status=ActionStatus.RUNNING
    )
    assert running is not None and running.status is ActionStatus.RUNNING
    again = store.update_action(
        saved.id, expect=[ActionStatus.PENDING], status=ActionStatus.REJECTED
    )
    assert again is None
    assert store.get_action(saved.id).status is ActionStatus.RUNNING
    with pytest.raises(NotFoundError):
        store.update_action(10**6, status=ActionStatus.REJECTED)
    with pytest.raises(InvalidInputError):
        store.update_action(saved.id, colour="red")


def test_counts_and_pages(store: Store) -> None:
    store.claim_action(_action("a", target="i1", ts=100.0))
    store.claim_action(_action("b", target="i1", ts=200.0, status=ActionStatus.SUCCEEDED))
    store.claim_action(_action("c", target="i2", ts=300.0, status=ActionStatus.DRY_RUN))
    store.claim_action(_action("d", target="i3", ts=400.0, policy="q"))
    assert store.count_actions(since=150.0) == 2  # dry runs do not count
    assert store.count_actions(since=0.0, target="i1") == 2
    assert store.count_actions(since=0.0, policy="p", distinct_targets=True) == 1
    assert store.count_actions(since=0.0, targets=["i1", "i3"], distinct_targets=True) == 2
    page, total = store.list_actions(statuses=[ActionStatus.RUNNING], limit=1)
    assert total == 2 and [a.key for a in page] == ["d"]
    store.audit("x", "automation.plan", "i1")
    store.audit("x", "incident.resolved", "incident:1")
    audit, count = store.list_automation_audit()
    assert count == 1 and audit[0].action == "automation.plan"
