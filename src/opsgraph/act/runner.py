"""How planned actions run: off the pipeline thread, each attempt with a timeout, retried with
back-off, then escalated; verification of the outcome, rollback, and the audit/timeline records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from opsgraph.act.actions import get_action
from opsgraph.act.executors import ActionRequest, Executor, Plan
from opsgraph.act.settings import AutomationSettings
from opsgraph.core.errors import OpsgraphError
from opsgraph.core.models import AnomalyStatus, IncidentEvent, IncidentStatus
from opsgraph.store import Store
from opsgraph.store._automation import ActionStatus, AutomationAction

log = logging.getLogger("opsgraph.act")


class ActionRunner:
    """The execution half of `Automation` (which holds the state used here)."""

    store: Store
    settings: AutomationSettings
    clock: Callable[[], float]
    executors: dict[str, Executor]
    _publish: Callable[[str, Any], None]
    _pool: ThreadPoolExecutor
    _futures: set[Future[None]]
    _lock: threading.Lock
    plans: Callable[..., list[Plan]]
    recover: Callable[[], None]

    def _expire(self, record: AutomationAction) -> None:
        assert record.id is not None
        saved = self.store.update_action(
            record.id, expect=[ActionStatus.PENDING], status=ActionStatus.EXPIRED
        )
        if saved is not None:
            self._log("expire", saved, "nobody approved it in time")
            self._timeline(saved, f"{saved.action} on {saved.target} expired unapproved")

    # -- execution -----------------------------------------------------------------------------
    def run_deadline(self, steps: int) -> float:
        """Wall time by which a run of `steps` plans has finished, every retry included."""
        cfg = self.settings
        per_step = cfg.max_attempts * cfg.execute_timeout_s + cfg.backoff_s * float(
            2**cfg.max_attempts
        )
        return time.time() + max(steps, 1) * per_step + 60.0

    def _submit(self, record: AutomationAction, plans: list[Plan]) -> None:
        assert record.id is not None
        # The deadline tells `recover` (here or on another replica) when it was interrupted.
        self.store.update_action(record.id, expires_ts=self.run_deadline(len(plans)))
        future = self._pool.submit(self._run, record, plans)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)
        exc = future.exception()
        if exc is not None:
            log.error("automation run failed", exc_info=exc)

    def _attempt(self, executor: Executor, plan: Plan) -> tuple[str, str, dict[str, Any]]:
        """One try in a thread of its own: ("ok" | "failed" | "unknown", message, details).

        A try that does not answer within the timeout may still be acting (its thread runs
        on, a cloud call may have landed): its outcome is unknown, and it is never tried
        again blindly."""
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = executor.execute(plan)
            except Exception as exc:  # reported as a failed attempt
                box["error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=run, name="opsgraph-act-attempt", daemon=True)
        thread.start()
        thread.join(self.settings.execute_timeout_s)
        if thread.is_alive():
            return (
                "unknown",
                f"timed out after {self.settings.execute_timeout_s:g}s: the outcome is unknown "
                "(it may still happen), so it is not tried again",
                {},
            )
        if "error" in box:
            return "failed", str(box["error"]), {}
        result = box["result"]
        return ("ok" if result.ok else "failed"), result.message, result.details

    def _run_plans(
        self, plans: list[Plan], stop_on_failure: bool
    ) -> tuple[bool, list[dict[str, Any]]]:
        """Each plan with retries and back-off; a runbook stops at its first failed step, and
        everything stops at a step whose outcome is unknown (at most once)."""
        steps: list[dict[str, Any]] = []
        all_ok = True
        for plan in plans:
            executor = self.executors[plan.executor]
            delay = self.settings.backoff_s
            for attempt in range(1, self.settings.max_attempts + 1):
                outcome, message, details = self._attempt(executor, plan)
                steps.append(
                    {
                        "step": plan.steps,
                        "attempt": attempt,
                        "ok": outcome == "ok",
                        "outcome": outcome,
                        "message": message,
                        "details": details,
                    }
                )
                if outcome == "ok":
                    break
                if outcome == "unknown":
                    return False, steps
                if attempt < self.settings.max_attempts:
                    time.sleep(delay)
                    delay *= 2
            else:
                all_ok = False
                if stop_on_failure:
                    break
        return all_ok, steps

    def _run(self, record: AutomationAction, plans: list[Plan]) -> None:
        assert record.id is not None
        stop = bool(record.params.get("stop_on_failure", True))
        ok, steps = self._run_plans(plans, stop)
        attempts = sum(1 for s in steps)
        result = record.result | {"steps": steps}
        if not ok:
            saved = self.store.update_action(
                record.id, status=ActionStatus.ESCALATED, attempts=attempts, result=result
            )
            assert saved is not None
            last = steps[-1]
            if last.get("outcome") == "unknown":
                why = f"outcome unknown after attempt {last['attempt']}: {last['message']}"
                told = "did not answer in time; escalated to a person to check what happened"
            else:
                why = f"failed after {last['attempt']} attempts: {last['message']}"
                told = "failed; escalated to a person"
            self._log("escalate", saved, why)
            self._timeline(saved, f"{saved.action} on {saved.target} {told}")
            return
        watch = record.incident_id is not None and record.action not in ("notify", "webhook")
        status = ActionStatus.VERIFYING if watch else ActionStatus.SUCCEEDED
        saved = self.store.update_action(
            record.id,
            status=status,
            attempts=attempts,
            result=result,
            verify_until=self.clock() + self.settings.verify_window_s if watch else None,
        )
        assert saved is not None
        self._log("execute", saved, "; ".join(str(s["message"]) for s in steps))
        self._timeline(
            saved, f"{saved.action} on {saved.target} executed" + ("; verifying" if watch else "")
        )

    # -- verification --------------------------------------------------------------------------
    def expire_pending(self) -> None:
        """Pending actions past their approval TTL (wall time) become expired."""
        now_wall = time.time()
        pending, _ = self.store.list_actions(statuses=[ActionStatus.PENDING], limit=1000)
        for record in pending:
            if record.expires_ts is not None and record.expires_ts <= now_wall:
                self._expire(record)

    def tick(self) -> None:
        """Expire unapproved actions, escalate interrupted runs and judge the ones being
        verified (cheap when idle)."""
        self.expire_pending()
        self.recover()
        watching, _ = self.store.list_actions(statuses=[ActionStatus.VERIFYING], limit=1000)
        for record in watching:
            self._verify(record)

    def _verify(self, record: AutomationAction) -> None:
        assert record.id is not None and record.incident_id is not None
        incident = self.store.get_incident(record.incident_id)
        anomalies = self.store.incident_anomalies(record.incident_id)
        own = [a for a in anomalies if a.resource_id == record.target] or anomalies
        cleared = incident.status is IncidentStatus.RESOLVED or all(
            a.status is AnomalyStatus.RESOLVED for a in own
        )
        if cleared:
            saved = self.store.update_action(
                record.id, expect=[ActionStatus.VERIFYING], status=ActionStatus.SUCCEEDED
            )
            if saved is not None:
                self._log("verify", saved, "the anomaly cleared", result={"verified": True})
                self._timeline(
                    saved, f"{saved.action} on {saved.target} verified: the anomaly cleared"
                )
            return
        if record.verify_until is None or self.clock() < record.verify_until:
            return
        saved = self.store.update_action(
            record.id, expect=[ActionStatus.VERIFYING], status=ActionStatus.FAILED
        )
        if saved is None:
            return
        self._log(
            "verify", saved, "the anomaly did not clear in the window", result={"verified": False}
        )
        spec = get_action(saved.action)
        self._log("escalate", saved, "remediation did not work")
        self._timeline(
            saved,
            f"{saved.action} on {saved.target} did not clear the anomaly; escalated"
            + (f"; rolling back with {spec.reverse}" if spec.reverse else " (not reversible)"),
        )
        if spec.reverse is not None:
            self._rollback(saved)

    def _rollback(self, record: AutomationAction) -> None:
        spec = get_action(record.action)
        assert spec.reverse is not None
        # What the executor replaced (a concurrency, say) is what the reverse restores.
        replaced = [
            step["details"]["previous"]
            for step in record.result.get("steps", [])
            if isinstance(step.get("details"), dict) and "previous" in step["details"]
        ]
        params = record.params | ({"previous": replaced[-1]} if replaced else {})
        request = ActionRequest(
            action=spec.reverse,
            target=record.target,
            params=spec.reverse_params(params),
            key=f"{record.key}:rollback",
            reason=f"roll back {record.action} (verification failed)",
        )
        try:
            plans = self.plans(request, record.executor or None, dry_run=False)
        except OpsgraphError as exc:
            self._log("rollback", record, f"cannot roll back: {exc}", result={"ok": False})
            return

        # The rollback is an action of its own, claimed by key: a restart never repeats it.
        claimed = self.store.claim_action(
            AutomationAction(
                key=request.key,
                ts=self.clock(),
                policy=record.policy,
                action=request.action,
                target=record.target,
                params=request.params,
                executor=record.executor,
                mode="rollback",
                status=ActionStatus.RUNNING,
                expires_ts=self.run_deadline(len(plans)),
                incident_id=record.incident_id,
                reason=request.reason,
                actor="automation",
            )
        )
        if claimed is None or claimed.id is None:
            return
        rollback_id = claimed.id

        def run() -> None:
            ok, steps = self._run_plans(plans, True)
            status = ActionStatus.SUCCEEDED if ok else ActionStatus.ESCALATED
            done = self.store.update_action(
                rollback_id, status=status, attempts=len(steps), result={"steps": steps}
            )
            self._log("rollback", record, request.reason, result={"ok": ok, "steps": steps})
            if done is not None:
                word = "done" if ok else "FAILED; escalated"
                self._timeline(done, f"rollback {request.action} on {record.target} {word}")

        future = self._pool.submit(run)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._done)

    # -- records -------------------------------------------------------------------------------
    def _log(
        self,
        event: str,
        record: AutomationAction,
        why: str,
        *,
        actor: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """The audit event (who, what, why, inputs, result) and the live message."""
        who = actor or record.actor
        inputs = {
            "id": record.id,
            "key": record.key,
            "policy": record.policy,
            "incident_id": record.incident_id,
            "params": record.params,
            "mode": record.mode,
            "executor": record.executor,
        }
        out = {"status": record.status.value, **(result or {})}
        self.store.audit(
            who, f"automation.{event}", record.target, reason=why, inputs=inputs, result=out
        )
        self._publish(
            "automation:log",
            {"event": event, "action": record.model_dump(mode="json"), "reason": why, "actor": who}
            | out,
        )

    def _timeline(
        self, record: AutomationAction, message: str, *, actor: str = "automation"
    ) -> None:
        if record.incident_id is None:
            return
        self.store.add_incident_events(
            [
                IncidentEvent(
                    incident_id=record.incident_id,
                    ts=time.time(),
                    kind="automation",
                    actor=actor,
                    message=message,
                    payload={"action_id": record.id, "status": record.status.value},
                )
            ]
        )
