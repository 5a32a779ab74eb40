"""The incident's root is the ranker's: a hook on the incident lifecycle that ranks the root
cause when an incident opens and again when its evidence grows (a new resource joins, a
member escalates), from the samples the store recorded (`explain/incident.py`).

It runs before automation's hook, so a policy with `target: root` acts on the ranked root, and
only when the ranker's confidence passes the policy's `trigger.min_root_confidence`. When the
samples cannot be judged (they are not persisted, or the estate is too young) the incident
keeps the first anomaly to start as its root, with no confidence, and says why on its
timeline.

A ranking that has not settled yet (the newest change is one row old) is tried again after each
detection batch (`retry`) until it settles; the lifecycle event it was deferred from is then
told to the later hooks (`resume`), so automation decides on a root that is vouched for. When
the unsettled ranking still puts the root already vouched for first, that root stays vouched
for meanwhile: members that keep joining an incident do not hold its approvals back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import (
    Anomaly,
    Dependency,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Severity,
)
from opsgraph.explain.incident import Diagnosis, diagnose, incident_window
from opsgraph.explain.live import Series
from opsgraph.store import Store

log = logging.getLogger("opsgraph.rca")

#: Lifecycle events after which the evidence may have changed.
EVENTS = frozenset({"opened", "grouped", "escalated"})


class IncidentRoots:
    """Ranks each incident's root cause and keeps the result on the incident."""

    def __init__(
        self,
        store: Store,
        dependencies: Callable[[], Sequence[Dependency]],
        publish: Callable[[str, dict[str, object]], None] | None = None,
        resume: Callable[[Incident, str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.dependencies = dependencies
        self.publish = publish or (lambda kind, data: None)
        #: Tells the other lifecycle hooks an event whose ranking was deferred (see `retry`).
        self.resume = resume or (lambda incident, event: None)
        self.clock = clock
        # incident id -> (resources, members) at its last ranking: re-rank only on new evidence.
        self._seen: dict[int, tuple[tuple[str, ...], int]] = {}
        # incident id -> the first lifecycle event whose ranking has not settled yet.
        self._pending: dict[int, str] = {}
        # incident id -> event: its vouched-for root still leads an unsettled ranking; the
        # ranking is refreshed once it settles, and nothing is deferred meanwhile.
        self._refresh: dict[int, str] = {}

    def on_incident(self, incident: Incident, event: str) -> None:
        """The lifecycle hook (changes `incident` in place, so later hooks see the root)."""
        if incident.id is None:
            return
        if event == "resolved" or incident.status is IncidentStatus.RESOLVED:
            self._seen.pop(incident.id, None)
            self._pending.pop(incident.id, None)
            self._refresh.pop(incident.id, None)
            return
        if event not in EVENTS:
            return
        members = self.store.incident_anomalies(incident.id)
        if not members:
            return
        state = (tuple(sorted(incident.resource_ids)), len(members))
        if self._seen.get(incident.id) == state:
            return
        self._seen[incident.id] = state
        self._rank_members(incident, members, event)

    def retry(self) -> None:
        """After a detection batch: rank again each open incident whose ranking had not
        settled; once one settles, the event it was deferred from goes on to the other hooks.
        Then refresh the rankings that were kept while their root still led (`_refresh`)."""
        for incident_id, event in list(self._pending.items()):
            try:
                incident = self.store.get_incident(incident_id)
            except NotFoundError:
                self._pending.pop(incident_id, None)
                continue
            if incident.status is IncidentStatus.RESOLVED:
                self._pending.pop(incident_id, None)
                continue
            members = self.store.incident_anomalies(incident_id)
            if members and self._rank_members(incident, members, event):
                self._seen[incident_id] = (tuple(sorted(incident.resource_ids)), len(members))
                self.resume(incident, event)
        for incident_id, event in list(self._refresh.items()):
            self._refresh.pop(incident_id)
            try:
                incident = self.store.get_incident(incident_id)
            except NotFoundError:
                continue
            members = self.store.incident_anomalies(incident_id)
            if incident.status is IncidentStatus.RESOLVED or not members:
                continue
            # Settled: the numbers are refreshed (and the other hooks told if the root moved).
            # Unsettled: it stays here while the root still leads, or is deferred (`_pending`)
            # once another leads.
            before = incident.root_resource_id
            ranked = self._rank_members(incident, members, event)
            if ranked and incident.id not in self._refresh and incident.root_resource_id != before:
                self.resume(incident, event)

    def _rank_members(self, incident: Incident, members: Sequence[Anomaly], event: str) -> bool:
        """Rank and keep the result; False when no settled ranking came of it."""
        assert incident.id is not None
        onset = min(a.start_ts for a in members)
        end = max(a.last_ts for a in members)
        # The newest member that could page: a stream of medium members (the ensemble lists
        # many) would otherwise keep every ranking one row old and never vouched for.
        strong = [a for a in members if a.severity.rank >= Severity.HIGH.rank] or members
        newest = max(a.start_ts for a in strong)
        try:
            result = self.rank(incident.resource_ids, onset, end, newest)
        except InvalidInputError as exc:
            self._pending.pop(incident.id, None)
            if event == "opened":
                self._note(incident, f"root not ranked ({exc.reason}); the first to start is kept")
            return False
        if not result.settled:
            if incident.root_confidence is not None and result.root == incident.root_resource_id:
                # The newest change is one row old but the root already vouched for still
                # leads: it stays vouched for, so an approval or a policy on it need not wait
                # while members keep joining; the ranking is refreshed once it settles.
                self._refresh[incident.id] = event
                return True
            # The newest change is one row old and another root may lead: none is vouched for
            # until it settles (the next batch, anomaly, escalation or member), so no policy
            # acts on a stale one.
            self._refresh.pop(incident.id, None)
            self._seen.pop(incident.id, None)
            self._pending.setdefault(incident.id, event)
            if incident.root_confidence is not None:
                incident.root_confidence = None
                self.store.update_incident(incident, ("root_confidence",))
            return False
        self._pending.pop(incident.id, None)
        self._refresh.pop(incident.id, None)
        self.apply(incident, result)
        return True

    def rank(
        self, resource_ids: Sequence[str], onset: float, end: float, newest: float | None = None
    ) -> Diagnosis:
        dependencies = self.dependencies()
        nodes, start, stop = incident_window(resource_ids, onset, end, dependencies)
        series: Series = {}
        for node in nodes:
            try:
                recorded = self.store.read_samples(node, start=start, end=stop)
            except NotFoundError:
                continue
            for metric, samples in recorded.items():
                series[(node, metric)] = samples
        return diagnose(onset, series, nodes, dependencies, newest_ts=newest)

    def apply(self, incident: Incident, result: Diagnosis) -> None:
        """Keep the ranking on the incident; a new root goes on its timeline."""
        before, ranked = incident.root_resource_id, incident.root_confidence is not None
        if before and before != result.root and incident.title.startswith(f"{before}: "):
            # The title names the root ("db-1: cpu, latency_ms"): it follows the ranking.
            incident.title = f"{result.root}: " + incident.title.removeprefix(f"{before}: ")
        incident.root_resource_id = result.root
        incident.root_confidence = round(result.confidence, 4)
        incident.hypotheses = result.hypotheses
        self.store.update_incident(
            incident, ("title", "root_resource_id", "root_confidence", "hypotheses")
        )
        if before != result.root or not ranked:
            moved = f" (was {before})" if before and before != result.root else ""
            self._note(
                incident,
                f"root {result.root}{moved}, confidence {result.confidence:.2f}: {result.summary}",
                {
                    "root": result.root,
                    "confidence": incident.root_confidence,
                    "hypotheses": [h["node"] for h in result.hypotheses],
                },
            )
        self.publish("incident:update", incident.model_dump(mode="json") | {"event": "ranked"})

    def _note(
        self, incident: Incident, message: str, payload: dict[str, object] | None = None
    ) -> None:
        assert incident.id is not None
        self.store.add_incident_events(
            [
                IncidentEvent(
                    incident_id=incident.id,
                    ts=self.clock(),
                    kind="ranked",
                    message=message,
                    payload=payload or {},
                )
            ]
        )
