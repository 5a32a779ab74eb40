"""`opsgraph bench ingest`: samples per second through ingest + detect, in memory and persisted.

Frames are simulated before timing, and detectors warmed until every member's window is full
(as `bench detect` does), so the figures are the steady-state cost of ingest, scoring, episode
decisions and the store's write.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from opsgraph import __version__
from opsgraph.bench.detect import warmup_steps
from opsgraph.core.models import SampleFrame
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import Ingestor, build_ingestor
from opsgraph.sim import SimulatedCloud
from opsgraph.store import Store


def _ingestor(store: Store | None) -> Ingestor:
    return build_ingestor(DetectSettings(), store=store)


@contextmanager
def _sqlite_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-") as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        try:
            yield store
        finally:
            store.close()


@contextmanager
def _postgres_store(url: str) -> Iterator[Store]:
    schema = f"og_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    store = Store(url, schema=schema)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _measure(
    store_factory: Callable[[], Any] | None,
    sim: SimulatedCloud,
    warm: list[SampleFrame],
    timed: list[SampleFrame],
) -> dict[str, Any]:
    def run(store: Store | None) -> dict[str, Any]:
        ingestor = _ingestor(store)
        if store is not None:
            store.upsert_topology(sim.resources, sim.dependencies)
        ingestor.add_resources(sim.resources)
        ingestor.persist_samples = False  # the warm-up fills detector windows only
        for frame in warm:
            ingestor.ingest_frame(frame)
        ingestor.persist_samples = True
        anomalies = 0
        start = time.perf_counter()
        for frame in timed:
            anomalies += len(ingestor.ingest_frame(frame).opened)
        seconds = time.perf_counter() - start
        samples = sum(f.size for f in timed)
        return {
            "samples": samples,
            "seconds": round(seconds, 4),
            "samples_per_s": round(samples / seconds),
            "anomalies_opened": anomalies,
        }

    if store_factory is None:
        return run(None)
    with store_factory() as store:
        return run(store)


def run_ingest_bench(
    *,
    sizes: list[int],
    postgres_url: str | None,
    target_samples: int = 2_000_000,
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure every stage for every estate size; returns the report as plain data."""
    say = console.print if console is not None else (lambda *a, **k: None)
    results = []
    for n in sizes:
        sim = SimulatedCloud.generate(n, seed=11, start_ts=1_750_000_000.0)
        per_frame = n * len(sim.metrics)
        n_timed = max(3, math.ceil(target_samples / per_frame))
        settings = DetectSettings()
        # Every member's window full, as `bench detect` warms them: the steady state.
        n_warm = warmup_steps(settings.detector, settings.window)
        say(f"simulating {n} resources: {n_warm} warm-up + {n_timed} timed steps")
        warm = [sim.step() for _ in range(n_warm)]
        timed = [sim.step() for _ in range(n_timed)]
        stages: list[tuple[str, Callable[[], Any] | None]] = [
            ("memory", None),
            ("sqlite", _sqlite_store),
        ]
        if postgres_url:
            stages.append(("postgresql", functools.partial(_postgres_store, postgres_url)))
        for stage, factory in stages:
            say(f"  {stage} ...")
            try:
                figures = _measure(factory, sim, warm, timed)
            except Exception as exc:  # a missing server is reported, not fatal to the others
                figures = {"error": f"{type(exc).__name__}: {exc}"}
            results.append({"resources": n, "series": per_frame, "stage": stage, **figures})
    return {
        "benchmark": "ingest",
        "opsgraph": __version__,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "detector": DetectSettings().detector,  # the live default, as `_ingestor` builds it
        "results": results,
    }


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title="opsgraph bench ingest (ingest + detect [+ persist])")
    for col in ("resources", "series", "stage", "samples", "seconds", "samples/s"):
        table.add_column(col, justify="right")
    for row in report["results"]:
        if "error" in row:
            table.add_row(
                str(row["resources"]), str(row["series"]), row["stage"], "-", "-", row["error"][:60]
            )
            continue
        table.add_row(
            str(row["resources"]),
            str(row["series"]),
            row["stage"],
            f"{row['samples']:,}",
            f"{row['seconds']:.2f}",
            f"{row['samples_per_s']:,}",
        )
    console.print(table)
