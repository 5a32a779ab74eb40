"""`opsgraph bench calendar`: false alarms that business events cause, with and without the
calendar as a feature of detection.

A fault-free simulated estate runs for two weeks (its generated calendar holds weekly evening
promotions and a one-to-two-day sale); every anomaly is a false alarm. They are counted during
events, in the hour after one, and elsewhere, once with the calendar ignored and once with it
taken into account (`detect.calendar_metrics`).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import build_ingestor
from opsgraph.sim import SimulatedCloud

ZONES = ("during", "hour_after", "elsewhere")


def _run(resources: int, seed: int, days: float, use_calendar: bool) -> dict[str, Any]:
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    ingestor = build_ingestor(DetectSettings(), store=None)
    ingestor.add_resources(sim.resources)
    if use_calendar:
        ingestor.set_calendar(sim.calendar.events)
    steps = int(days * 86_400 / sim.step_s)
    alarms: Counter[tuple[str, str]] = Counter()
    event_steps = 0
    for _ in range(steps):
        frame = sim.step()
        during = bool(sim.calendar.active(frame.ts))
        after = not during and bool(sim.calendar.active(frame.ts - 3600.0))
        event_steps += during
        zone = "during" if during else "hour_after" if after else "elsewhere"
        for anomaly in ingestor.ingest_frame(frame).opened:
            alarms[(zone, anomaly.metric)] += 1
    return {
        "steps": steps,
        "event_steps": event_steps,
        "alarms": {z: sum(n for (zz, _), n in alarms.items() if zz == z) for z in ZONES},
        "by_metric": {
            z: dict(sorted((m, n) for (zz, m), n in alarms.items() if zz == z)) for z in ZONES
        },
    }


def run_calendar_bench(resources: int = 50, seed: int = 7, days: float = 14.0) -> dict[str, Any]:
    started = time.perf_counter()
    without = _run(resources, seed, days, use_calendar=False)
    with_calendar = _run(resources, seed, days, use_calendar=True)
    return {
        "benchmark": "calendar",
        "resources": resources,
        "seed": seed,
        "days": days,
        "calendar_metrics": DetectSettings().calendar_metrics,
        "without_calendar": without,
        "with_calendar": with_calendar,
        "seconds": round(time.perf_counter() - started, 1),
    }
