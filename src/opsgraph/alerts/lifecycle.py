"""What happens to an anomaly after detection: fingerprint and dedup, silences, grouping into
incidents, auto-resolution; and the operator's acknowledge / resolve / reopen, audited.

Every suppression or grouping is written down: on the anomaly (`reason`) or on the incident's
timeline, so "why did this not page me" and "why are these together" have an answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from opsgraph.alerts.grouping import ROLE_ORDER, Topology, group, member_role
from opsgraph.alerts.labels import fingerprint, labels_of
from opsgraph.alerts.settings import AlertSettings
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Dependency,
    ExternalAlert,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Resource,
    Severity,
    Silence,
)
from opsgraph.store import Store

log = logging.getLogger("opsgraph.alerts")

Publish = Callable[[str, Any], None]

#: The score an outside alert carries, by its severity (the middle of each severity's band).
EXTERNAL_SCORE = {
    Severity.LOW: 0.2,
    Severity.MEDIUM: 0.5,
    Severity.HIGH: 0.75,
    Severity.CRITICAL: 0.95,
}


def _metric_name(text: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_:.]", "_", text)[:128]
    return name if re.match(r"^[a-zA-Z_]", name) else f"alert_{name}"[:128]


class AlertLifecycle:
    """The lifecycle of anomalies and incidents over one store."""

    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        *,
        resources: Callable[[], dict[str, Resource]],
        dependencies: Callable[[], Sequence[Dependency]],
        publish: Publish,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        #: The pipeline's clock for timeline events, notes and silences (the runtime's
        #: `clock`: the wall clock, or the simulated one when it runs ahead).
        self.clock = clock
        self.settings = settings
        self._resources = resources
        self._dependencies = dependencies
        self._publish = publish
        self._topology: tuple[int, Topology] | None = None
        #: Called with (incident, event kind) after each timeline event; automation plans here.
        #: A failing hook is logged and never stops the lifecycle.
        self.on_incident: list[Callable[[Incident, str], None]] = []
        #: Called after each detection batch has been processed (a deferred ranking retries).
        self.after_batch: list[Callable[[], None]] = []
        #: The severity rank last seen of each open anomaly, so only a rise is looked at.
        self._ranks: dict[int, int] = {}

    # -- after detection -----------------------------------------------------------------------
    def process(
        self,
        opened: Sequence[Anomaly],
        closed: Sequence[Anomaly],
        updated: Sequence[Anomaly] = (),
    ) -> None:
        """Label, deduplicate, silence and group new anomalies; let those whose severity rose
        open or escalate an incident; resolve incidents that cleared.

        The anomalies are changed in place too, so the detector's copies stay in step."""
        for anomaly in opened:
            if anomaly.id is not None:
                self._ranks[anomaly.id] = anomaly.severity.rank
        if updated:
            self._escalate(updated)
        for anomaly in closed:
            if anomaly.id is not None:
                self._ranks.pop(anomaly.id, None)
        if opened:
            silences = self.active_silences(max(a.last_ts for a in opened))
            # Mark every duplicate and muted one first, so none is grouped by a sibling.
            for anomaly in opened:
                self._mark(anomaly, silences)
            for anomaly in opened:
                if anomaly.duplicate_of is None and anomaly.silence_id is None:
                    self._group(anomaly)
        if closed and self.settings.auto_resolve:
            incidents = set()
            for anomaly in closed:
                if anomaly.id is not None:
                    stored = self.store.get_anomaly(anomaly.id)
                    if stored.incident_id is not None:
                        incidents.add(stored.incident_id)
            for incident_id in sorted(incidents):
                self._maybe_resolve(incident_id)
        for hook in self.after_batch:
            try:
                hook()
            except Exception:
                log.exception("after-batch hook %r failed", hook)

    def _escalate(self, updated: Sequence[Anomaly]) -> None:
        """An anomaly whose severity rose: one still waiting may now open (or join) an incident
        (`alerts.open_at`); one in an incident raises the incident's severity, on its timeline."""
        for anomaly in updated:
            if anomaly.id is None or anomaly.status is AnomalyStatus.RESOLVED:
                continue
            rank = anomaly.severity.rank
            if rank <= self._ranks.get(anomaly.id, -1):
                continue
            self._ranks[anomaly.id] = rank
            stored = self.store.get_anomaly(anomaly.id)
            if stored.duplicate_of is not None or stored.silence_id is not None:
                continue
            if stored.incident_id is None:
                if rank >= self.settings.open_at.rank:
                    self._group(anomaly)
                continue
            anomaly.incident_id = stored.incident_id
            incident = self.store.get_incident(stored.incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                continue
            if rank <= incident.severity.rank:
                if rank >= self.settings.open_at.rank and self._touch(incident, anomaly):
                    self.store.update_incident(incident, ("updated_ts",))
                continue
            before = incident.severity
            incident.severity = anomaly.severity
            self._touch(incident, anomaly)
            self.store.update_incident(incident, ("severity", "updated_ts"))
            self._timeline(
                incident,
                "escalated",
                f"{before.value} -> {anomaly.severity.value}: {anomaly.resource_id}/"
                f"{anomaly.metric} scored {anomaly.max_score:.2f}",
                anomaly=anomaly,
            )

    @staticmethod
    def _touch(incident: Incident, anomaly: Anomaly) -> bool:
        """Paging-level activity (an anomaly at `alerts.open_at` or above) keeps an incident
        open to related anomalies for `group_window_s` more; a stream of lesser ones joins it
        meanwhile but does not keep it open (else a noisy neighbourhood holds one incident
        open for hours and the next fault there never pages). True if it moved."""
        last = max(incident.updated_ts or 0.0, anomaly.last_ts)
        moved = last != incident.updated_ts
        incident.updated_ts = last
        return moved

    def active_silences(self, ts: float) -> list[Silence]:
        return [s for s in self.store.list_silences(ending_after=ts) if s.active_at(ts)]

    def _mark(self, anomaly: Anomaly, silences: Sequence[Silence]) -> None:
        """Fingerprint; then a duplicate of an older open alert, or muted by a silence."""
        assert anomaly.id is not None
        labels = labels_of(anomaly, self._resources().get(anomaly.resource_id))
        anomaly.fingerprint = fingerprint(labels, self.settings.fingerprint_fields)
        first = self.store.find_open_by_fingerprint(anomaly.fingerprint, exclude_id=anomaly.id)
        if first is not None and first.id is not None and first.id < anomaly.id:
            fields = ", ".join(self.settings.fingerprint_fields)
            anomaly.duplicate_of = first.id
            anomaly.reason = f"duplicate of anomaly #{first.id}: same {fields}"
        else:
            silence = next((s for s in silences if s.matches(labels)), None)
            if silence is not None:
                anomaly.silence_id = silence.id
                anomaly.reason = f"silenced by {silence.describe()}"
        self.store.set_anomaly_fields(
            anomaly.id,
            fingerprint=anomaly.fingerprint,
            duplicate_of=anomaly.duplicate_of,
            silence_id=anomaly.silence_id,
            reason=anomaly.reason,
        )

    def topology(self) -> Topology:
        deps = self._dependencies()
        if self._topology is None or self._topology[0] != id(deps):
            self._topology = (id(deps), Topology(deps))
        return self._topology[1]

    def members_with_roles(self, incident: Incident) -> list[dict[str, Any]]:
        """The incident's anomalies as JSON, each with its `role` (cause, symptom or
        unexplained) and `role_reason`; causes first, then by peak score."""
        topology = self.topology()
        rows = []
        for a in self.store.incident_anomalies(incident.id or 0):
            role, why = member_role(a, incident.root_resource_id, topology)
            rows.append(a.model_dump(mode="json") | {"role": role, "role_reason": why})
        rows.sort(key=lambda r: (ROLE_ORDER[r["role"]], -r["max_score"], r["id"]))
        return rows

    def _group(self, anomaly: Anomaly) -> None:
        assert anomaly.id is not None
        cfg = self.settings
        incidents = self.store.open_incidents()
        decision = group(
            anomaly,
            topology=self.topology(),
            open_incidents=[(i, i.resource_ids) for i in incidents],
            pool=self.store.ungrouped_anomalies(since=anomaly.start_ts - cfg.group_window_s),
            window_s=cfg.group_window_s,
            max_hops=cfg.group_max_hops,
            min_anomalies=cfg.min_anomalies,
            open_alone_at=cfg.open_alone_at,
            open_at=cfg.open_at,
        )
        if decision.action == "wait":
            anomaly.reason = decision.reason
            self.store.set_anomaly_fields(anomaly.id, reason=decision.reason)
            return
        if decision.action == "join":
            incident = decision.incident
            assert incident is not None and incident.id is not None
            self.store.link_anomalies([anomaly.id], incident.id)
            anomaly.incident_id, anomaly.reason = incident.id, ""
            if anomaly.resource_id not in incident.resource_ids:
                incident.resource_ids = [*incident.resource_ids, anomaly.resource_id]
            if anomaly.severity.rank > incident.severity.rank:
                incident.severity = anomaly.severity
            if anomaly.severity.rank >= cfg.open_at.rank:
                self._touch(incident, anomaly)
            self.store.update_incident(incident, ("resource_ids", "severity", "updated_ts"))
            self._timeline(incident, "grouped", decision.reason, anomaly=anomaly)
            return
        members = decision.members
        severity = max((a.severity for a in members), key=lambda s: s.rank)
        metrics = sorted({a.metric for a in members})
        incident = self.store.add_incident(
            Incident(
                title=f"{decision.root}: {', '.join(metrics[:3])}"
                + (f" and {len(metrics) - 3} more" if len(metrics) > 3 else ""),
                severity=severity,
                opened_ts=min(a.start_ts for a in members),
                root_resource_id=decision.root,
                resource_ids=sorted({a.resource_id for a in members}),
                summary=decision.reason,
                updated_ts=max(a.last_ts for a in members),
            )
        )
        assert incident.id is not None
        self.store.link_anomalies([a.id for a in members if a.id is not None], incident.id)
        anomaly.incident_id, anomaly.reason = incident.id, ""
        self._timeline(incident, "opened", decision.reason, members=members)

    def _timeline(
        self,
        incident: Incident,
        kind: str,
        message: str,
        *,
        actor: str = "opsgraph",
        anomaly: Anomaly | None = None,
        members: Iterable[Anomaly] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        assert incident.id is not None
        ids = [a.id for a in ([anomaly] if anomaly else list(members)) if a is not None]
        payload = {"anomaly_ids": ids, **(extra or {})}
        self.store.add_incident_events(
            [
                IncidentEvent(
                    incident_id=incident.id,
                    ts=self.clock(),
                    kind=kind,
                    actor=actor,
                    message=message,
                    payload=payload,
                )
            ]
        )
        self._publish("incident:update", incident.model_dump(mode="json") | {"event": kind})
        self.notify(incident, kind)

    def notify(self, incident: Incident, kind: str) -> None:
        """Run the incident hooks for a lifecycle event (a failing hook is logged)."""
        for hook in self.on_incident:
            try:
                hook(incident, kind)
            except Exception:
                log.exception("incident hook %r failed", hook)

    def _maybe_resolve(self, incident_id: int) -> None:
        incident = self.store.get_incident(incident_id)
        if incident.status is IncidentStatus.RESOLVED:
            return
        anomalies = self.store.incident_anomalies(incident_id)
        if any(a.status is not AnomalyStatus.RESOLVED for a in anomalies):
            return
        if self._reopened_by_hand(incident_id):
            return
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_ts = max((a.end_ts or a.last_ts) for a in anomalies)
        incident.updated_ts = incident.resolved_ts
        self.store.update_incident(incident, ("status", "resolved_ts", "updated_ts"))
        self._timeline(incident, "resolved", f"all {len(anomalies)} anomalies cleared")

    def _reopened_by_hand(self, incident_id: int) -> bool:
        """An operator reopened it (and nobody resolved it since): they judged the problem not
        over, and only an operator resolves it again; anomalies that clear do not."""
        for event in reversed(self.store.incident_timeline(incident_id)):
            if event.kind in ("opened", "resolved", "reopened"):
                return event.kind == "reopened"
        return False

    # -- alerts from other systems -------------------------------------------------------------
    def receive(self, alerts: Sequence[ExternalAlert]) -> tuple[list[Anomaly], list[Anomaly]]:
        """Open, update or close one anomaly per outside alert (by source and fingerprint);
        returns (opened, changed). Unknown resources are registered by the caller first."""
        opened: list[Anomaly] = []
        updated: list[Anomaly] = []
        closed: list[Anomaly] = []
        for alert in alerts:
            key = hashlib.sha256(f"{alert.source}\x1f{alert.fingerprint}".encode()).hexdigest()
            current = self.store.find_open_by_fingerprint(key[:32])
            score = EXTERNAL_SCORE[alert.severity]
            if current is None:
                if not alert.firing:
                    continue  # a resolution of something never seen (or already closed)
                opened.append(
                    Anomaly(
                        resource_id=alert.resource_id,
                        metric=_metric_name(alert.metric),
                        detector=alert.source,
                        start_ts=alert.starts_at,
                        last_ts=max(alert.starts_at, self.clock()),
                        score=score,
                        max_score=score,
                        severity=alert.severity,
                        value=alert.value,
                        expected=0.0,
                        fingerprint=key[:32],
                    )
                )
                continue
            current.last_ts = max(current.last_ts, alert.ends_at or self.clock())
            current.score = score
            if alert.firing:
                if score > current.max_score:
                    current.max_score, current.severity = score, alert.severity
                updated.append(current)
            else:
                current.status = AnomalyStatus.RESOLVED
                current.end_ts = alert.ends_at or current.last_ts
                closed.append(current)
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        stored = self.store.write_batch(
            series_ids=empty_i,
            ts=empty_f,
            values=empty_f,
            new_anomalies=opened,
            updated_anomalies=updated + closed,
        )
        for mine, theirs in zip(opened, stored, strict=True):
            mine.id = theirs.id
            self.store.set_anomaly_fields(theirs.id or 0, fingerprint=mine.fingerprint)
        for anomaly in opened:
            self._ranks[anomaly.id or 0] = anomaly.severity.rank
        self.process([], closed, updated)
        for anomaly in opened:
            self._place_external(anomaly)
        return opened, updated + closed

    def _place_external(self, anomaly: Anomaly) -> None:
        """Outside alerts keep their own fingerprint; silences and grouping apply as usual."""
        assert anomaly.id is not None
        labels = labels_of(anomaly, self._resources().get(anomaly.resource_id))
        silence = next(
            (s for s in self.active_silences(anomaly.last_ts) if s.matches(labels)), None
        )
        if silence is not None:
            anomaly.silence_id, anomaly.reason = silence.id, f"silenced by {silence.describe()}"
            self.store.set_anomaly_fields(anomaly.id, silence_id=silence.id, reason=anomaly.reason)
            return
        self._group(anomaly)

    # -- operator actions ----------------------------------------------------------------------
    def set_anomaly_status(
        self, anomaly: Anomaly, status: AnomalyStatus, *, actor: str, note: str = ""
    ) -> Anomaly:
        """Acknowledge, resolve or reopen an anomaly (audited)."""
        assert anomaly.id is not None
        if anomaly.status is status:
            raise InvalidInputError("status", f"anomaly #{anomaly.id} is already {status.value}")
        end = (anomaly.end_ts or anomaly.last_ts) if status is AnomalyStatus.RESOLVED else None
        saved = self.store.set_anomaly_fields(anomaly.id, status=status, end_ts=end)
        self.store.audit(actor, f"anomaly.{status.value}", f"anomaly:{anomaly.id}", reason=note)
        self._publish(
            "anomaly:resolved" if status is AnomalyStatus.RESOLVED else "anomaly:update",
            saved.model_dump(mode="json"),
        )
        if status is AnomalyStatus.RESOLVED and self.settings.auto_resolve and saved.incident_id:
            self._maybe_resolve(saved.incident_id)
        return saved

    def set_incident_status(
        self, incident_id: int, status: IncidentStatus, *, actor: str, note: str = ""
    ) -> Incident:
        incident = self.store.get_incident(incident_id)
        if incident.status is status:
            raise InvalidInputError("status", f"incident #{incident_id} is already {status.value}")
        now = self.clock()
        verb = {
            IncidentStatus.ACKNOWLEDGED: "acknowledged",
            IncidentStatus.RESOLVED: "resolved",
            IncidentStatus.OPEN: "reopened",
        }[status]
        if status is IncidentStatus.ACKNOWLEDGED:
            incident.acknowledged_ts, incident.acknowledged_by = now, actor
        if status is IncidentStatus.RESOLVED:
            incident.resolved_ts = now
        if status is IncidentStatus.OPEN:
            incident.resolved_ts = None
            incident.acknowledged_ts = incident.acknowledged_by = None
        incident.status = status
        self.store.update_incident(
            incident, ("status", "resolved_ts", "acknowledged_ts", "acknowledged_by")
        )
        message = f"{verb} by {actor}" + (f": {note}" if note else "")
        self._timeline(incident, verb, message, actor=actor)
        self.store.audit(actor, f"incident.{verb}", f"incident:{incident_id}", reason=note)
        return incident

    def add_note(self, incident_id: int, *, actor: str, note: str) -> IncidentEvent:
        incident = self.store.get_incident(incident_id)
        event = self.store.add_incident_events(
            [
                IncidentEvent(
                    incident_id=incident_id, ts=self.clock(), kind="note", actor=actor, message=note
                )
            ]
        )[0]
        self._publish("incident:update", incident.model_dump(mode="json") | {"event": "note"})
        return event

    def add_silence(self, silence: Silence) -> Silence:
        saved = self.store.add_silence(silence)
        self.store.audit(
            silence.created_by,
            "alerts.silence.add",
            f"silence:{saved.id}",
            reason=silence.comment,
            inputs=saved.model_dump(mode="json"),
        )
        return saved

    def expire_silence(self, silence_id: int, *, actor: str) -> Silence:
        saved = self.store.expire_silence(silence_id, self.clock())
        self.store.audit(actor, "alerts.silence.expire", f"silence:{silence_id}")
        return saved
