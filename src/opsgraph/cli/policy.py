"""`opsgraph policy validate | list | test`: check remediation policies, list the configured
ones, and show what a policy would do for a stored incident (nothing is executed or recorded).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from opsgraph.cli.common import call_api, console, fail
from opsgraph.core.errors import OpsgraphError

policy_app = typer.Typer(help="Remediation policies (YAML).", no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]
PathArg = Annotated[Path, typer.Argument(help="A policy file or a folder of them.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _load(path: Path) -> list[Any]:
    from opsgraph.act.policy import load_policies

    try:
        return load_policies(path)
    except OpsgraphError as exc:
        fail(str(exc))


def _table(policies: list[Any], source: str) -> None:
    table = Table(title=f"policies ({source})")
    for column in ("name", "mode", "trigger", "actions", "cooldown", "enabled"):
        table.add_column(column)
    for p in policies:
        t = p.trigger
        trigger = f"severity>={t.min_severity.value}" + (
            f" kinds={','.join(k.value for k in t.resource_kinds)}" if t.resource_kinds else ""
        )
        actions = ", ".join(f"{a.action}@{a.target}" for a in p.actions)
        table.add_row(p.name, p.mode.value, trigger, actions, f"{p.cooldown_s:g}s", str(p.enabled))
    console.print(table)


@policy_app.command("validate")
def validate(path: PathArg, as_json: JsonOpt = False) -> None:
    """Check policies against the schema (exit 2 naming the file and field on the first error)."""
    policies = _load(path)
    if as_json:
        console.print_json(json.dumps([p.model_dump(mode="json") for p in policies]))
        return
    console.print(f"{len(policies)} valid polic{'y' if len(policies) == 1 else 'ies'} in {path}")


@policy_app.command("list")
def list_policies(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The policies of the configured `automation.policy_dir`."""
    from opsgraph.runtime.running import running_demo
    from opsgraph.runtime.settings import load_settings

    try:
        settings = load_settings(config)
    except OpsgraphError as exc:
        fail(str(exc))
    folder = settings.automation.policy_dir
    if folder is None:
        # `opsgraph demo` runs the shipped policies without a configured folder: show those.
        running = running_demo(settings.data_dir)
        if running is not None and running.policy_dir is not None:
            folder = Path(running.policy_dir)
            if not as_json:
                console.print(f"the running demo's policies ({running.api_url}):")
    policies = _load(folder) if folder is not None else []
    if as_json:
        console.print_json(json.dumps([p.model_dump(mode="json") for p in policies]))
    elif folder is None:
        console.print("no automation.policy_dir configured: no policies")
    else:
        _table(policies, str(folder))


def _remote_situation(url: str, incident_id: int) -> tuple[Any, list[Any], list[Any]]:
    from opsgraph.act.policy import Situation
    from opsgraph.core.models import Anomaly, Dependency, Incident, Resource

    base = url.rstrip("/")
    data = call_api("GET", f"{base}/incidents/{incident_id}")
    graph = call_api("GET", f"{base}/graph")
    fields = set(Incident.model_fields)
    incident = Incident.model_validate({k: v for k, v in data.items() if k in fields})
    anomalies = [Anomaly.model_validate(a) for a in data.get("anomalies", [])]
    resources = [
        Resource(id=n["id"], kind=n["kind"], tags=n.get("tags") or {}) for n in graph["nodes"]
    ]
    deps = [
        Dependency(source=e["source"], target=e["target"], kind=e["kind"]) for e in graph["edges"]
    ]
    now = graph.get("ts") or incident.updated_ts or incident.opened_ts
    situation = Situation(incident, anomalies, {r.id: r for r in resources}, now, "opened")
    return situation, resources, deps


@policy_app.command("test")
def test_policy(
    path: PathArg,
    incident: Annotated[int, typer.Option("--incident", help="The stored incident's id.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Read the incident from a running API instead.")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What the policies would do for an incident: matched or not (and why), the target, the
    guardrail verdict and the plan. Nothing is executed or recorded."""
    from opsgraph.act.service import Automation
    from opsgraph.runtime.settings import load_settings
    from opsgraph.store import Store

    policies = _load(path)
    try:
        settings = load_settings(config)
        if url is not None:
            situation, resources, deps = _remote_situation(url, incident)
            # History (cooldowns, rate limits) lives in the remote store: judged as empty here.
            store = Store("sqlite://")
            store.migrate()
            clock_now = situation.now
            automation = Automation(
                store,
                settings.automation,
                clock=lambda: clock_now,
                resources=lambda: {r.id: r for r in resources},
                dependencies=lambda: deps,
                publish=lambda _t, _d: None,
                policies=policies,
            )
            decisions = automation.decide(situation, record=False)
        else:
            store = Store(settings.store_url)
            stored = store.get_incident(incident)
            all_resources = {r.id: r for r in store.list_resources()}
            all_deps = store.list_dependencies()
            automation = Automation(
                store,
                settings.automation,
                clock=lambda: stored.updated_ts or stored.opened_ts,
                resources=lambda: all_resources,
                dependencies=lambda: all_deps,
                publish=lambda _t, _d: None,
                policies=policies,
            )
            decisions = automation.evaluate(stored, record=False)
        automation.close()
        store.close()
    except OpsgraphError as exc:
        fail(str(exc))
    rows = [d.to_json() for d in decisions]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title=f"policies for incident #{incident} (nothing executed)")
    for column in ("policy", "action", "target", "outcome", "reason", "plan"):
        table.add_column(column)
    for d in decisions:
        table.add_row(d.policy, d.action, d.target or "", d.outcome, d.reason, "; ".join(d.steps))
    console.print(table)
