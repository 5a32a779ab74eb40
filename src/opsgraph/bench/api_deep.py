"""`opsgraph bench api`, phase (e): one series' long history in one request, beside the usual
load. It measures what one such request costs, whether it holds the server's event loop (a
trivial `GET /health` timed every 20 ms meanwhile), and how long a one-sample push for another
series waits behind it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import numpy as np

from opsgraph.bench.api_load import Plan, json_sender, paced_load, percentiles

DEEP_ID, BESIDE_ID = "deep-0001", "beside-0001"
#: Seconds between the deep series' points: 95,000 of them span 5.5 days, within the default
#: api.max_sample_age_s and before now.
DEEP_STEP_S = 5.0


def _deep_body(points: int, start_ts: float) -> bytes:
    values = np.random.default_rng(11).normal(40.0, 4.0, points)
    samples = [
        {"resource_id": DEEP_ID, "metric": "cpu", "ts": start_ts + DEEP_STEP_S * i, "value": v}
        for i, v in enumerate(values.round(3).tolist())
    ]
    return json.dumps({"samples": samples}).encode()


async def deep_batch(
    client: httpx.AsyncClient,
    plan: Plan,
    *,
    points: int,
    first_batch: int,
    batch: int,
    rate: float,
    concurrency: int,
) -> tuple[dict[str, Any], list[int], dict[str, int]]:
    """The phase's report, the background batches accepted, and the extra series' counts."""
    resources = [{"id": DEEP_ID, "kind": "ec2"}, {"id": BESIDE_ID, "kind": "ec2"}]
    (await client.post("/resources", json={"resources": resources})).raise_for_status()
    start_ts = time.time() - points * DEEP_STEP_S - 600.0
    body = await asyncio.to_thread(_deep_body, points, start_ts)
    stop = asyncio.Event()
    background = asyncio.create_task(
        paced_load(
            client,
            json_sender(plan, {}),
            first=first_batch,
            batch=batch,
            rate=rate,
            concurrency=concurrency,
            stop=stop,
        )
    )
    health: list[float] = []
    deep_done = asyncio.Event()

    # Probes on connections of their own: the load's pool is busy with the load.
    side = httpx.AsyncClient(base_url=client.base_url, headers=client.headers, timeout=60)

    async def watch(into: list[float], until: asyncio.Event) -> None:
        while not until.is_set():
            began = time.perf_counter()
            (await side.get("/health")).raise_for_status()
            into.append(time.perf_counter() - began)
            await asyncio.sleep(0.02)

    # The same probe with the background load alone first: the baseline of the figure.
    baseline: list[float] = []
    enough = asyncio.Event()
    probe = asyncio.create_task(watch(baseline, enough))
    await asyncio.sleep(2.0)
    enough.set()
    await probe

    async def beside() -> float:
        await asyncio.sleep(0.2)  # the deep request is being scored by then
        began = time.perf_counter()
        sample = {"resource_id": BESIDE_ID, "metric": "cpu", "ts": time.time() - 60, "value": 1.0}
        r = await side.post("/ingest/samples", json={"samples": [sample]})
        r.raise_for_status()
        return time.perf_counter() - began

    watcher = asyncio.create_task(watch(health, deep_done))
    small = asyncio.create_task(beside())
    began = time.perf_counter()
    response = await client.post(
        "/ingest/samples", content=body, headers={"content-type": "application/json"}
    )
    deep_s = time.perf_counter() - began
    response.raise_for_status()
    small_s = await small
    deep_done.set()
    await watcher
    stop.set()
    run = await background
    await side.aclose()
    report = {
        "points": points,
        "body_mb": round(len(body) / 1e6, 1),
        "accepted": response.json()["accepted"],
        "seconds": round(deep_s, 3),
        "points_per_s": round(points / deep_s),
        "health_ms_meanwhile": percentiles(health),
        "health_ms_before": percentiles(baseline),
        "one_sample_push_beside_ms": round(1000 * small_s, 1),
        "background_ingest": run.summary(batch, concurrency, rate),
        "samples_accepted": response.json()["accepted"] + 1 + run.samples_accepted,
    }
    return report, run.accepted_batches, {DEEP_ID: points, BESIDE_ID: 1}
