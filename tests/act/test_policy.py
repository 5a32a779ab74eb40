"""Tests of policies as YAML: defaults, errors that name the field, loading a folder, matching
an incident, time windows and targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgraph.act.policy import (
    Mode,
    Situation,
    TimeWindow,
    load_policies,
    mismatch,
    parse_policies,
    resolve_target,
)
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Anomaly, Incident, Resource, ResourceKind, Severity

FULL = """
name: scale-web
description: add capacity when the web tier runs hot
trigger:
  events: [opened]
  resource_kinds: [ec2]
  tags: {team: web}
  min_severity: high
  metrics: ["cpu*"]
  root_cause: ["web-*"]
  min_duration_s: 60
conditions:
  - {field: max_score, op: ">=", value: 0.8}
actions:
  - {action: scale_out, target: group, params: {count: 2}}
  - {action: notify, params: {message: scaled web}}
mode: approval
cooldown_s: 1800
rate_limit: {per_resource_per_hour: 2, global_per_hour: 10}
blast_radius: {max_resources: 3, max_percent: 50}
allowed_states: [open, acknowledged]
time_windows: [{days: [mon, tue, wed, thu, fri], start: "08:00", end: "20:00"}]
"""


def _situation(**incident: object) -> Situation:
    base = {
        "title": "t",
        "severity": Severity.CRITICAL,
        "opened_ts": 1000.0,
        "root_resource_id": "web-1",
        "root_confidence": 0.9,
    }
    anomaly = Anomaly(
        resource_id="web-1",
        metric="cpu_pct",
        detector="d",
        start_ts=1000.0,
        last_ts=1100.0,
        score=0.9,
        max_score=0.9,
        severity=Severity.CRITICAL,
        value=99.0,
        expected=40.0,
    )
    resources = {"web-1": Resource(id="web-1", kind=ResourceKind.EC2, tags={"team": "web"})}
    return Situation(
        Incident.model_validate(base | incident), [anomaly], resources, 1100.0, "opened"
    )


def test_a_full_policy_parses_and_matches() -> None:
    (policy,) = parse_policies(FULL)
    assert policy.mode is Mode.APPROVAL
    assert policy.actions[0].params == {"count": 2}
    assert mismatch(policy, _situation()) is None


def test_defaults_are_safe() -> None:
    (policy,) = parse_policies("name: minimal\nactions: [{action: notify}]")
    assert policy.mode is Mode.DRY_RUN
    assert policy.cooldown_s == 900.0
    assert [s.value for s in policy.allowed_states] == ["open"]
    assert policy.actions[0].target == "root"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("name: a\nactions: [{action: explode}]", "actions.0", "unknown action 'explode'"),
        (
            "name: a\nactions: [{action: scale_out, params: {count: -1}}]",
            "actions.0",
            "params.count: Input should be greater than or equal to 1",
        ),
        ("name: a\nmode: yolo\nactions: [{action: notify}]", "mode", "Input should be"),
        (
            "name: a\nactions: [{action: notify}]\ntime_windows: [{start: '8am'}]",
            "time_windows.0.start",
            "must be HH:MM",
        ),
        ("name: a\nactions: []", "actions", "at least 1 item"),
        ("name: a\nactions: [{action: notify, target: everything}]", "actions.0.target", "must be"),
        ("name: 'no spaces'\nactions: [{action: notify}]", "name", "must be 1-64"),
        ("name: a\nactions: [{action: notify}]\nrate: 1", "rate", "Extra inputs"),
    ],
)
def test_errors_name_the_field(text: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_policies(text, "p.yaml")
    assert err.value.field == f"p.yaml: {field}"
    assert reason in err.value.reason


def test_bad_yaml_and_non_mappings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        parse_policies("name: [", "x.yaml")
    with pytest.raises(InvalidInputError, match="must be a mapping"):
        parse_policies("- 3", "x.yaml")


def test_a_folder_loads_every_file_and_refuses_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: one\nactions: [{action: notify}]")
    (tmp_path / "b.yml").write_text(
        "policies:\n  - {name: two, actions: [{action: notify}]}\n"
        "  - {name: three, actions: [{action: notify}]}"
    )
    (tmp_path / "notes.txt").write_text("not a policy")
    assert [p.name for p in load_policies(tmp_path)] == ["one", "two", "three"]
    assert load_policies(None) == []
    (tmp_path / "c.yaml").write_text("name: one\nactions: [{action: notify}]")
    with pytest.raises(InvalidInputError, match="already defined in"):
        load_policies(tmp_path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_policies(tmp_path / "missing")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"severity": Severity.MEDIUM}, "severity medium below high"),
        ({"root_resource_id": "db-1"}, "root resource kind not in trigger.resource_kinds"),
        ({"opened_ts": 1090.0}, "incident younger than trigger.min_duration_s (60s)"),
        (
            {"root_confidence": None},
            "root not ranked (trigger.min_root_confidence needs the ranker's root)",
        ),
        (
            {"root_confidence": 0.3},
            "root web-1 ranked with confidence 0.30, below trigger.min_root_confidence 0.5",
        ),
    ],
)
def test_mismatch_says_why(change: dict[str, object], why: str) -> None:
    (policy,) = parse_policies(FULL)
    assert mismatch(policy, _situation(**change)) == why


def test_conditions_compare_incident_facts() -> None:
    (policy,) = parse_policies(FULL.replace("value: 0.8", "value: 0.95"))
    assert mismatch(policy, _situation()) == ("conditions[0]: max_score >= 0.95 is false (0.9)")


def test_time_windows_are_utc_days_and_hours() -> None:
    window = TimeWindow(days=["mon"], start="08:00", end="20:00")
    monday_noon = 1_790_000_000.0 - 2 * 3600 - 13 * 60  # 2026-09-21 12:00 UTC, a Monday
    assert window.contains(monday_noon)
    assert not window.contains(monday_noon + 9 * 3600)  # 21:00
    assert not window.contains(monday_noon + 86400)  # Tuesday
    assert TimeWindow().contains(monday_noon)


def test_targets_resolve_to_root_dominant_group_or_a_resource() -> None:
    situation = _situation()
    groups = {"web-1": "web-asg"}
    assert resolve_target("root", situation, groups) == "web-1"
    assert resolve_target("dominant", situation, groups) == "web-1"
    assert resolve_target("group", situation, groups) == "web-asg"
    assert resolve_target("group", situation, {}) is None
    assert resolve_target("resource:db-9", situation, groups) == "db-9"


def test_changed_within_asks_for_a_change_of_the_root_before_the_incident() -> None:
    from dataclasses import replace

    from opsgraph.core.models import Event

    (policy,) = parse_policies(FULL.replace("  min_duration_s: 60", "  changed_within_s: 600"))
    assert policy.trigger.changed_within_s == 600
    bare = _situation()
    why = mismatch(policy, bare)
    assert why is not None and why.startswith("no change of web-1 within trigger.changed_within_s")

    def deploy(ts: float, node: str = "web-1", kind: str = "change.deploy") -> Event:
        return Event(ts=ts, kind=kind, resource_id=node)

    assert mismatch(policy, replace(bare, changes=[deploy(700.0)])) is None  # 300 s before
    assert mismatch(policy, replace(bare, changes=[deploy(1050.0)])) is None  # since it opened
    for stale in ([deploy(300.0)], [deploy(700.0, node="db-1")], [deploy(700.0, kind="x.y")]):
        assert mismatch(policy, replace(bare, changes=stale)) == why
    with pytest.raises(InvalidInputError, match="changed_within_s"):
        parse_policies(FULL.replace("  min_duration_s: 60", "  changed_within_s: -5"))


def test_exclude_metrics_keeps_a_policy_off_a_root_whose_symptom_says_another_cure() -> None:
    from dataclasses import replace

    (policy,) = parse_policies(FULL.replace("  min_duration_s: 60", "  exclude_metrics: [disk*]"))
    bare = _situation()
    assert mismatch(policy, bare) is None
    disk = bare.anomalies[0].model_copy(update={"metric": "disk", "id": 7})
    assert mismatch(policy, replace(bare, anomalies=[*bare.anomalies, disk])) == (
        "root web-1 has a disk anomaly (trigger.exclude_metrics)"
    )
    elsewhere = disk.model_copy(update={"resource_id": "db-1"})
    assert mismatch(policy, replace(bare, anomalies=[*bare.anomalies, elsewhere])) is None


def test_the_dominant_signal_among_equal_scores_moved_most() -> None:
    """Rarity tops out at one in 10^10: in a traffic spike CPU and requests may both score 1.0,
    and the requests, three times their normal, dominate CPU at twice its own."""
    base = _situation()

    def anomaly(metric: str, value: float, expected: float, id_: int) -> Anomaly:
        return base.anomalies[0].model_copy(
            update={
                "id": id_,
                "metric": metric,
                "value": value,
                "expected": expected,
                "max_score": 1.0,
            }
        )

    cpu = anomaly("cpu", 60.0, 30.0, 1)
    requests = anomaly("request_count", 3000.0, 1000.0, 2)
    situation = Situation(base.incident, [cpu, requests], base.resources, 1100.0, "opened")
    assert situation.dominant is requests
    louder = cpu.model_copy(update={"max_score": 0.95})
    quieter = requests.model_copy(update={"max_score": 0.9})
    assert Situation(base.incident, [louder, quieter], base.resources, 1.0, "x").dominant is louder
