"""The crash half of `opsgraph bench remediation`: a pipeline with auto policies runs in a child
process that is killed (SIGKILL) at random moments and started again on the same store, many
times over; a ledger outside the process counts every execution that reached the executor.

The ledger line is written (and fsynced) before the executor acts, then the executor takes a
while (a slow cloud API), so kills land before, inside and after executions. When the executor
reports a failure (the simulator's provider errors, `sim.action_failure_rate`), a second line
says so: that attempt changed nothing, and the runner may try again. An action whose key shows
up twice in the ledger, not counting attempts that reported failure, was executed twice: the
benchmark wants none. (A kill between an attempt and its failure line counts as executed.)

Run as `python -m opsgraph.bench.remediation_crash --data-dir D --ledger F ...` (the child).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from opsgraph.act.executors import Executor, Plan, Result
from opsgraph.core.errors import InvalidInputError
from opsgraph.sim import CORE_FAULT_KINDS


class LedgerExecutor:
    """Wraps an executor: records each real execution's key in an append-only file first."""

    def __init__(self, inner: Executor, ledger: Path, delay_s: float) -> None:
        self.name = inner.name
        self._inner = inner
        self._ledger = ledger
        self._delay_s = delay_s

    def plan(self, request: Any, *, dry_run: bool = True) -> Plan:
        return self._inner.plan(request, dry_run=dry_run)

    def execute(self, plan: Plan) -> Result:
        if not plan.dry_run:
            self._append(plan.request.key)
            time.sleep(self._delay_s)
        result = self._inner.execute(plan)
        if not plan.dry_run and not result.ok:
            self._append(plan.request.key + " failed")
        return result

    def _append(self, line: str) -> None:
        """One line on the ledger, on disk before anything else happens."""
        fd = os.open(self._ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def _worker(args: argparse.Namespace) -> int:
    from opsgraph.bench.remediation import POLICIES, START_TS
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings

    data_dir = Path(args.data_dir)
    settings = Settings(
        data_dir=data_dir,
        sim={
            "resources": args.resources,
            "seed": args.seed,
            "preroll_steps": 40,
            "step_s": 60.0,
        },
        detect={"window": 30, "min_points": 10},
        auth={"enabled": False},
        automation={"policy_dir": POLICIES, "tick_s": 0, "backoff_s": 0},
    )
    runtime = Runtime(settings)
    sim = runtime.simulation.start(start_ts=START_TS)
    state = data_dir / "crash-run.json"
    if not state.exists():  # the first start fixes the run's data-time span
        tmp = state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"start_ts": sim.now}))
        tmp.replace(state)
    start = float(json.loads(state.read_text())["start_ts"])
    end = start + args.steps * sim.step_s
    automation = runtime.automation
    automation.executors["sim"] = LedgerExecutor(
        automation.executors["sim"], Path(args.ledger), args.exec_delay
    )
    kinds = list(CORE_FAULT_KINDS)
    nodes = sorted(r.id for r in sim.resources)
    print("ready", flush=True)
    while sim.now < end:
        index = round((sim.now - start) / sim.step_s)
        if index % args.fault_every == 0:  # the schedule is in data time: it survives restarts
            rng = random.Random(args.seed * 100_003 + index)
            kind = kinds[(index // args.fault_every) % len(kinds)]
            for node in rng.sample(nodes, k=len(nodes)):
                try:
                    runtime.simulation.inject_fault(kind, node, actor="bench", reason="crash test")
                    break
                except InvalidInputError:
                    continue
        runtime.simulation.step()
        automation.drain()
        automation.tick()
    automation.drain()
    runtime.close()
    print("done", flush=True)
    return 0


def run_crash_test(
    *,
    kills: int = 25,
    resources: int = 40,
    seed: int = 7,
    steps: int = 2400,
    fault_every: int = 20,
    exec_delay_s: float = 0.3,
    max_run_s: float = 4.0,
) -> dict[str, Any]:
    """Start, kill at a random moment, start again — `kills` times — then run to the end."""
    from opsgraph.store import Store
    from opsgraph.store._automation import ActionStatus

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-crash-") as tmp:
        data_dir, ledger = Path(tmp) / "data", Path(tmp) / "ledger.txt"
        data_dir.mkdir()
        cmd = [
            sys.executable,
            "-m",
            "opsgraph.bench.remediation_crash",
            f"--data-dir={data_dir}",
            f"--ledger={ledger}",
            f"--resources={resources}",
            f"--seed={seed}",
            f"--steps={steps}",
            f"--fault-every={fault_every}",
            f"--exec-delay={exec_delay_s}",
        ]
        killed, starts, finished = 0, 0, False
        kill_after: list[float] = []
        started = time.perf_counter()
        while not finished:
            starts += 1
            with subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            ) as proc:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    proc.wait()
                    raise RuntimeError(
                        f"the crash-test child failed to start (exit {proc.returncode})"
                    )
                if killed < kills:
                    wait_s = rng.uniform(0.0, max_run_s)
                    try:
                        proc.wait(timeout=wait_s)
                    except subprocess.TimeoutExpired:
                        proc.kill()  # SIGKILL: no clean-up, no flush
                        proc.wait()
                        killed += 1
                        kill_after.append(wait_s)
                        continue
                tail = proc.stdout.read().strip()
                finished = proc.wait(timeout=3600) == 0 and tail == "done"
            if not finished:
                raise RuntimeError(f"the crash-test child failed (exit {proc.returncode})")
        lines = ledger.read_text().splitlines() if ledger.exists() else []
        attempts = Counter(line for line in lines if not line.endswith(" failed"))
        failed = Counter(line.removesuffix(" failed") for line in lines if line.endswith(" failed"))
        # Executions that may have taken effect: attempts less those that reported failure.
        executed = Counter({k: n - failed[k] for k, n in attempts.items() if n - failed[k] > 0})
        store = Store(f"sqlite:///{data_dir / 'opsgraph.db'}")
        records, _ = store.list_actions(limit=100_000)
        store.close()
    statuses = Counter(r.status.value for r in records)
    # Claimed, then the process died before the outcome was recorded: still running (until
    # their run deadline passes) or already escalated as "outcome unknown" by a later start.
    interrupted = [
        r
        for r in records
        if r.status is ActionStatus.RUNNING
        or (r.status is ActionStatus.ESCALATED and "interrupted" in str(r.result.get("error")))
    ]
    keys = {r.key for r in records}
    return {
        "kills": killed,
        "starts": starts,
        "kill_after_ready_s": sorted(round(x, 2) for x in kill_after),
        "actions_recorded": len(records),
        "action_statuses": dict(sorted(statuses.items())),
        "executions": sum(executed.values()),
        "failed_attempts": sum(failed.values()),
        "actions_executed": len(executed),
        "duplicate_executions": sum(n - 1 for n in executed.values() if n > 1),
        "executed_without_record": sorted(k for k in executed if k not in keys),
        "killed_mid_execution": sum(1 for r in interrupted if r.key in executed),
        "killed_before_execution": sum(1 for r in interrupted if r.key not in executed),
        "wall_s": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--resources", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--fault-every", type=int, default=20)
    parser.add_argument("--exec-delay", type=float, default=0.3)
    return _worker(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
