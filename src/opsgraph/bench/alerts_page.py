"""`opsgraph bench ui`'s alerts-page figure: the server's time to answer one page of the Alerts
page, `GET /anomalies?limit=50`, over a SQLite store of 100,000 anomalies.

The API runs in this process (no network between the timer and the app): the first page, a deep
page reached by cursor, the first page of open anomalies only (the page's default view), and, for
comparison, the deep page by offset as old clients ask for it. p50 and p95 of `requests` calls.
"""

from __future__ import annotations

import logging
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.core.models import Anomaly, AnomalyStatus, Resource, severity_for

#: The Alerts page answers one page within this (docs/benchmarks.md).
TARGET_MS = 300.0
PAGE = 50
_CHUNK = 5000


def _anomalies(n: int, resources: list[str], seed: int) -> list[Anomaly]:
    """`n` anomalies over two weeks, most resolved, a few acknowledged, the newest open."""
    rng = random.Random(seed)
    t0 = 1_750_000_000.0
    span = 14 * 86_400.0
    out = []
    for i in range(n):
        start = t0 + span * i / n + rng.uniform(0, 30)
        score = rng.uniform(0.35, 0.99)
        share = rng.random()
        status = (
            AnomalyStatus.OPEN
            if i > n * 0.98
            else AnomalyStatus.ACKNOWLEDGED
            if share < 0.02
            else AnomalyStatus.RESOLVED
        )
        out.append(
            Anomaly(
                resource_id=rng.choice(resources),
                metric=rng.choice(("cpu", "latency_ms", "error_rate", "memory")),
                detector="robust_z",
                start_ts=start,
                last_ts=start + 60,
                end_ts=None if status is AnomalyStatus.OPEN else start + 120,
                score=score,
                max_score=score,
                severity=severity_for(score),
                value=rng.uniform(50, 500),
                expected=rng.uniform(20, 100),
                status=status,
            )
        )
    return out


def _timed(call: Callable[[], Any], requests: int) -> dict[str, float]:
    call()  # warm: first-use costs (statement cache, page cache) are not a page's cost
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"p50": round(statistics.median(times), 2), "p95": round(p95, 2)}


def run_alerts_page_bench(
    *, anomalies: int = 100_000, requests: int = 30, seed: int = 7
) -> dict[str, Any]:
    """Fill a fresh SQLite store with `anomalies` and time pages of GET /anomalies."""
    from fastapi.testclient import TestClient

    # One INFO line per request from the test client would drown the figures.
    for name in ("httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)

    from opsgraph.api import create_app
    from opsgraph.auth import Principal
    from opsgraph.core.auth import Role
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings

    no_ids, no_floats = np.array([], np.int64), np.array([], np.float64)
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-alerts-") as tmp:
        settings = Settings(data_dir=Path(tmp), sim={"enabled": False})
        runtime = Runtime(settings)
        try:
            names = [f"svc-{i:03d}" for i in range(200)]
            runtime.store.upsert_topology([Resource(id=r) for r in names], [])
            began = time.perf_counter()
            rows = _anomalies(anomalies, names, seed)
            for i in range(0, len(rows), _CHUNK):
                runtime.store.write_batch(
                    series_ids=no_ids,
                    ts=no_floats,
                    values=no_floats,
                    new_anomalies=rows[i : i + _CHUNK],
                )
            fill_s = time.perf_counter() - began
            admin = Principal("admin", Role.ADMIN, "user", None)
            key, _ = runtime.auth.create_key("bench-alerts", Role.VIEWER, by=admin)
            app = create_app(runtime, run_pipeline=False)
            with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:

                def get(**params: Any) -> dict[str, Any]:
                    response = client.get("/anomalies", params={"limit": PAGE, **params})
                    response.raise_for_status()
                    page: dict[str, Any] = response.json()
                    return page

                deep_offset = max(0, anomalies - anomalies // 10)  # 90 % of the way down
                deep = get(offset=deep_offset)
                cursor = deep["prev_cursor"]  # the page just newer than that one: as deep
                figures = {
                    "first_page": _timed(lambda: get(), requests),
                    "deep_page_cursor": _timed(lambda: get(cursor=cursor), requests),
                    "first_page_open": _timed(lambda: get(status="open"), requests),
                    "deep_page_offset": _timed(lambda: get(offset=deep_offset), requests),
                }
                position = get(cursor=cursor)["offset"] if cursor else 0
        finally:
            runtime.close()
    return {
        "benchmark": "alerts_page",
        "store": "sqlite",
        "anomalies": anomalies,
        "limit": PAGE,
        "requests": requests,
        "deep_page_position": position,
        "fill_s": round(fill_s, 1),
        "ms": figures,
        "target_ms": TARGET_MS,
    }


def describe(report: dict[str, Any]) -> str:
    """One line per figure, as `bench ui` prints them."""
    ms = report["ms"]
    lines = [
        f"alerts page, GET /anomalies?limit={report['limit']} over {report['anomalies']:,} "
        f"anomalies (SQLite, in process, target ≤ {report['target_ms']:.0f} ms):"
    ]
    names = {
        "first_page": "first page",
        "deep_page_cursor": f"deep page by cursor (row {report['deep_page_position']:,})",
        "first_page_open": "first page, open only",
        "deep_page_offset": "deep page by offset (old clients)",
    }
    for key, name in names.items():
        lines.append(f"  {name}: p50 {ms[key]['p50']:.1f} ms, p95 {ms[key]['p95']:.1f} ms")
    return "\n".join(lines)
