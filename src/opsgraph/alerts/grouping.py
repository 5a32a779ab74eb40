"""Grouping on the dependency graph: an anomaly joins an open incident that holds a resource
near its own (within `max_hops`, within `window_s`), or opens one with its related, ungrouped
neighbours once `min_anomalies` of them fire and one has reached `open_at`. Every decision
carries its reason in words.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from opsgraph.core.models import Anomaly, Dependency, Incident, Severity


class Topology:
    """Undirected hop distances (bounded) and directed reachability over the dependencies."""

    def __init__(self, dependencies: Iterable[Dependency]) -> None:
        self.neighbours: dict[str, set[str]] = {}
        self.callees: dict[str, set[str]] = {}
        for d in dependencies:
            self.neighbours.setdefault(d.source, set()).add(d.target)
            self.neighbours.setdefault(d.target, set()).add(d.source)
            self.callees.setdefault(d.source, set()).add(d.target)

    def within(self, start: str, max_hops: int) -> dict[str, int]:
        """Resources at most max_hops from start (undirected), with their distance."""
        seen = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if seen[node] >= max_hops:
                continue
            for nxt in self.neighbours.get(node, ()):
                if nxt not in seen:
                    seen[nxt] = seen[node] + 1
                    queue.append(nxt)
        return seen

    def reaches(self, source: str) -> set[str]:
        """Everything `source` depends on, directly or through others."""
        out: set[str] = set()
        stack = [source]
        while stack:
            for nxt in self.callees.get(stack.pop(), ()):
                if nxt not in out:
                    out.add(nxt)
                    stack.append(nxt)
        return out


@dataclass(slots=True)
class GroupDecision:
    action: Literal["join", "open", "wait"]
    reason: str
    incident: Incident | None = None  # the incident joined
    members: list[Anomaly] = field(default_factory=list)  # anomalies of a new incident
    root: str | None = None


#: Signals that follow the load a node is sent. Saturation, latency and errors travel up the
#: call graph (the callers of a sick node suffer); traffic travels down it (the callees of a
#: node get what it sends them, more or less), so these point away from where a fault started.
TRAFFIC_SIGNALS = frozenset({"request_count", "net_in", "net_out"})


def likely_root(members: Sequence[Anomaly], topology: Topology) -> str:
    """Where the fault most likely started: among the members with anomalies of health signals
    (all members when none has one), the first to start; ties go to the resource most others
    depend on (a fault spreads to callers)."""
    health = [a for a in members if a.metric not in TRAFFIC_SIGNALS] or list(members)
    resources = {a.resource_id for a in health}
    first: dict[str, float] = {}
    for a in sorted(health, key=lambda a: (a.start_ts, a.id or 0)):
        first.setdefault(a.resource_id, a.start_ts)

    def depended_on(r: str) -> int:
        return sum(1 for other in resources if other != r and r in topology.reaches(other))

    return max(resources, key=lambda r: (-first[r], depended_on(r)))


#: What a member anomaly of an incident looks like, seen from the incident's root.
Role = Literal["cause", "symptom", "unexplained"]
#: The order members are shown in: causes first, then what the root does not explain.
ROLE_ORDER: dict[str, int] = {"cause": 0, "unexplained": 1, "symptom": 2}


def member_role(anomaly: Anomaly, root: str | None, topology: Topology) -> tuple[Role, str]:
    """Cause or symptom, with the reason in words. An anomaly on the root is the likely cause;
    a health signal on a resource that depends on the root is a symptom (callers suffer when
    what they call is sick), as is a traffic signal on a resource the root calls or is called
    by (load follows the call graph); anything else the root does not explain."""
    where = anomaly.resource_id
    if root is None:
        return "unexplained", "the incident has no root"
    if where == root:
        return "cause", f"on {root}, where the fault most likely started"
    if anomaly.metric in TRAFFIC_SIGNALS:
        if where in topology.reaches(root):
            return "symptom", f"{root} calls {where}: its traffic follows {root}'s"
        if root in topology.reaches(where):
            return "symptom", f"{where} calls {root}: its traffic answers {root}'s trouble"
    elif root in topology.reaches(where):
        return "symptom", f"{where} depends on {root}: callers suffer when what they call is sick"
    return "unexplained", (
        f"{root} does not explain it through the dependency graph: a second cause, or chance"
    )


def group(
    anomaly: Anomaly,
    *,
    topology: Topology,
    open_incidents: Sequence[tuple[Incident, Sequence[str]]],
    pool: Sequence[Anomaly],
    window_s: float,
    max_hops: int,
    min_anomalies: int,
    open_alone_at: Severity | None,
    open_at: Severity = Severity.MEDIUM,
) -> GroupDecision:
    """Decide where a new anomaly goes. `open_incidents` pairs each unresolved incident with its
    resources; `pool` is the ungrouped, unresolved anomalies (the new one may be among them)."""
    near = topology.within(anomaly.resource_id, max_hops)
    for incident, resources in open_incidents:
        last = incident.updated_ts if incident.updated_ts is not None else incident.opened_ts
        if anomaly.start_ts - last > window_s:
            continue
        close = [(near[r], r) for r in resources if r in near]
        if close:
            hops, via = min(close)
            where = "the same resource" if hops == 0 else f"{hops} hop(s) from {via}"
            return GroupDecision(
                "join",
                f"joined incident #{incident.id}: {anomaly.resource_id} is {where} "
                f"in the dependency graph, within {window_s:g} s of its last activity",
                incident=incident,
            )
    related = [
        a
        for a in pool
        if a.id != anomaly.id
        and a.resource_id in near
        and abs(a.start_ts - anomaly.start_ts) <= window_s
    ]
    members = [*related, anomaly]
    strongest = max((a.severity for a in members), key=lambda s: s.rank)
    if len(members) >= min_anomalies and strongest.rank >= open_at.rank:
        root = likely_root(members, topology)
        names = ", ".join(sorted({f"{a.resource_id}/{a.metric}" for a in members}))
        return GroupDecision(
            "open",
            f"{len(members)} related anomalies within {max_hops} hop(s) and {window_s:g} s "
            f"({names}); at least {min_anomalies} open an incident",
            members=members,
            root=root,
        )
    if open_alone_at is not None and anomaly.severity.rank >= open_alone_at.rank:
        return GroupDecision(
            "open",
            f"{anomaly.severity.value} anomaly: at {open_alone_at.value} severity or above one "
            "anomaly opens an incident on its own",
            members=[anomaly],
            root=anomaly.resource_id,
        )
    if len(members) >= min_anomalies:
        return GroupDecision(
            "wait",
            f"{len(members)} related anomalies within {max_hops} hop(s) and {window_s:g} s, "
            f"the strongest {strongest.value}: an incident opens once one reaches {open_at.value}",
        )
    return GroupDecision(
        "wait",
        f"waiting for related anomalies: {len(members)} of {min_anomalies} within "
        f"{max_hops} hop(s) and {window_s:g} s",
    )
