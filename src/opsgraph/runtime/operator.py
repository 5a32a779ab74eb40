"""The operator's controls on detection and alerts: verdicts on anomalies, maintenance
windows, and acknowledge / resolve / reopen, each audited and each reaching the detector's
own state (thresholds, muted resources, open episodes)."""

from __future__ import annotations

from opsgraph.alerts.lifecycle import AlertLifecycle
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Feedback,
    FeedbackVerdict,
    MaintenanceWindow,
)
from opsgraph.ingest.stream import Ingestor
from opsgraph.store import Store


class Operator:
    """What operators change through the API and CLI, besides remediation."""

    def __init__(self, store: Store, ingestor: Ingestor, alerts: AlertLifecycle) -> None:
        self.store = store
        self.ingestor = ingestor
        self.alerts = alerts
        # Operator decisions survive restarts: replay verdicts and maintenance windows.
        for feedback in store.all_feedback():
            ingestor.apply_feedback(feedback)
        ingestor.set_maintenance(store.list_maintenance())

    def give_feedback(
        self, anomaly_id: int, verdict: FeedbackVerdict, *, note: str = "", actor: str = "api"
    ) -> tuple[Feedback, float]:
        """Store a verdict, let the decision step learn from it; returns the new threshold."""
        anomaly = self.store.get_anomaly(anomaly_id)
        feedback = self.store.add_feedback(
            Feedback(
                anomaly_id=anomaly_id,
                resource_id=anomaly.resource_id,
                metric=anomaly.metric,
                verdict=verdict,
                score=anomaly.max_score,
                note=note,
                actor=actor,
                ts=self.alerts.clock(),
            )
        )
        threshold = self.ingestor.apply_feedback(feedback)
        self.store.audit(
            actor,
            "detect.feedback",
            f"{anomaly.resource_id}/{anomaly.metric}",
            reason=note,
            inputs={"anomaly_id": anomaly_id, "verdict": verdict.value},
            result={"threshold": threshold},
        )
        return feedback, threshold

    def add_maintenance(self, window: MaintenanceWindow) -> MaintenanceWindow:
        saved = self.store.add_maintenance(window)
        self.ingestor.set_maintenance(self.store.list_maintenance())
        self.store.audit(
            window.actor,
            "detect.maintenance.add",
            ",".join(window.resource_ids),
            reason=window.reason,
            inputs=saved.model_dump(mode="json"),
        )
        return saved

    def delete_maintenance(self, window_id: int, *, actor: str = "api") -> None:
        self.store.delete_maintenance(window_id)
        self.ingestor.set_maintenance(self.store.list_maintenance())
        self.store.audit(actor, "detect.maintenance.delete", str(window_id))

    def _live(self, anomaly_id: int) -> Anomaly | None:
        """The detector's own copy of an open episode, if it holds one."""
        return next((a for a in self.ingestor.tracker.open.values() if a.id == anomaly_id), None)

    def set_anomaly_status(
        self, anomaly_id: int, status: AnomalyStatus, *, actor: str, note: str = ""
    ) -> Anomaly:
        """Acknowledge, resolve or reopen an anomaly. Resolving ends the detector's episode:
        if the series is still abnormal, a new anomaly opens."""
        anomaly = self.store.get_anomaly(anomaly_id)
        saved = self.alerts.set_anomaly_status(anomaly, status, actor=actor, note=note)
        live = self._live(anomaly_id)
        if live is not None:
            live.status = saved.status
            live.end_ts = saved.end_ts
            if status is AnomalyStatus.RESOLVED:
                tracker = self.ingestor.tracker
                for series, episode in list(tracker.open.items()):
                    if episode is live:
                        del tracker.open[series]
        return saved
