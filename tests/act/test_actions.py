"""Tests of the actions catalog: every action declares a schema, permissions, kinds and an
example that passes its own schema; reversible actions name a catalog action."""

from __future__ import annotations

import pytest

from opsgraph.act.actions import CATALOG, get_action, validate_action
from opsgraph.core.errors import InvalidInputError

EXPECTED = {
    "scale_out",
    "scale_in",
    "reboot_instance",
    "stop_instance",
    "start_instance",
    "restart_service",
    "rds_failover",
    "lambda_throttle",
    "rollback",
    "notify",
    "webhook",
    "runbook",
}


def test_the_catalog_holds_the_issue_actions() -> None:
    assert set(CATALOG) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_action_declares_itself_and_its_example_validates(name: str) -> None:
    spec = CATALOG[name]
    described = spec.describe()
    assert described["params_schema"]["type"] == "object"
    assert described["resource_kinds"]
    assert spec.example["action"] == name
    validate_action(name, spec.example.get("params", {}))
    if spec.reversible:
        assert spec.reverse in CATALOG and spec.reverse_how


def test_cloud_actions_need_permissions() -> None:
    assert CATALOG["scale_out"].permissions[0] == "autoscaling:SetDesiredCapacity"
    assert "lambda:PutFunctionConcurrency" in CATALOG["lambda_throttle"].permissions


def test_parameters_are_checked_and_defaults_filled() -> None:
    assert validate_action("scale_in", {}) == {"count": 1}
    with pytest.raises(InvalidInputError) as err:
        validate_action("lambda_throttle", {})
    assert (err.value.field, err.value.reason) == ("params.reserved_concurrency", "Field required")
    with pytest.raises(InvalidInputError) as extra:
        validate_action("reboot_instance", {"forse": True})
    assert extra.value.field == "params.forse"


def test_runbook_steps_are_checked_one_by_one() -> None:
    steps = {"steps": [{"action": "notify"}, {"action": "scale_out", "params": {"count": 0}}]}
    with pytest.raises(InvalidInputError) as err:
        validate_action("runbook", steps)
    assert err.value.field == "params.steps[1].params.count"
    nested = {"steps": [{"action": "runbook", "params": {}}]}
    with pytest.raises(InvalidInputError, match="cannot hold a runbook"):
        validate_action("runbook", nested)
    with pytest.raises(InvalidInputError, match="unknown action 'nope'"):
        get_action("nope")
