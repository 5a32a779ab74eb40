"""Load for `opsgraph bench api`: deterministic sample batches, a paced HTTP sender, percentiles.

Batch i holds positions [i*B, (i+1)*B) of one endless sequence (step-major over every series),
so the samples any set of batches sent, per series, can be counted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

#: Typical level and relative noise of each signal (values stay in their valid ranges).
SIGNAL_LEVELS: dict[str, tuple[float, float]] = {
    "cpu": (45.0, 0.08),
    "memory": (60.0, 0.03),
    "latency_ms": (120.0, 0.10),
    "error_rate": (0.01, 0.20),
    "request_count": (500.0, 0.10),
    "net_in": (2e6, 0.10),
    "net_out": (3e6, 0.10),
    "disk": (40.0, 0.01),
}


class Plan:
    """The series of the estate and how batch numbers map to their samples."""

    def __init__(
        self,
        resource_ids: Sequence[str],
        metrics: Sequence[str],
        *,
        batch: int,
        start_ts: float,
        step_s: float = 15.0,
        seed: int = 11,
    ) -> None:
        self.resource_ids = tuple(resource_ids)
        self.metrics = tuple(metrics)
        self.batch = batch
        self.start_ts = start_ts
        self.step_s = step_s
        self.seed = seed
        # The JSON of a sample up to its timestamp never changes: build it once per series.
        self._prefixes = [
            f'{{"resource_id":"{r}","metric":"{m}","ts":'
            for r in self.resource_ids
            for m in metrics
        ]
        levels = np.array([SIGNAL_LEVELS[m] for m in self.metrics])
        self._level = np.tile(levels[:, 0], len(self.resource_ids))
        self._noise = np.tile(levels[:, 1], len(self.resource_ids))

    @property
    def series(self) -> int:
        return len(self.resource_ids) * len(self.metrics)

    def key(self, series: int) -> tuple[str, str]:
        per = len(self.metrics)
        return self.resource_ids[series // per], self.metrics[series % per]

    def columns(
        self, index: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Series numbers, timestamps and values of batch `index`."""
        positions = np.arange(index * self.batch, (index + 1) * self.batch, dtype=np.int64)
        series = positions % self.series
        ts = (self.start_ts + (positions // self.series) * self.step_s).astype(np.float64)
        rng = np.random.default_rng((self.seed, index))
        noise = rng.standard_normal(len(series))
        values = self._level[series] * np.abs(1.0 + self._noise[series] * noise)
        return series, ts, np.round(values, 4).astype(np.float64)

    def json_body(self, index: int) -> bytes:
        series, ts, values = self.columns(index)
        prefixes = self._prefixes
        items = ",".join(
            f'{prefixes[s]}{t!r},"value":{v!r}}}'
            for s, t, v in zip(series.tolist(), ts.tolist(), values.tolist(), strict=True)
        )
        return f'{{"samples":[{items}]}}'.encode()

    def counts(self, batches: Sequence[int]) -> npt.NDArray[np.int64]:
        """Samples per series in these batches."""
        out = np.zeros(self.series, dtype=np.int64)
        for index in batches:
            positions = np.arange(index * self.batch, (index + 1) * self.batch, dtype=np.int64)
            out += np.bincount(positions % self.series, minlength=self.series)
        return out

    def last_ts(self, batches: Sequence[int]) -> float | None:
        """The newest timestamp in these batches."""
        if not batches:
            return None
        last_position = (max(batches) + 1) * self.batch - 1
        return self.start_ts + (last_position // self.series) * self.step_s


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | None]:
    """p50 / p95 / p99 / max, in milliseconds by default; None without values."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    arr = np.asarray(values) * scale
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "max": round(float(arr.max()), 2),
    }


@dataclass
class LoadResult:
    """What a paced run sent and what the server said."""

    seconds: float = 0.0
    requests: int = 0
    samples_sent: int = 0
    samples_accepted: int = 0
    latencies: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    accepted_batches: list[int] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    first_failure: str | None = None

    def summary(self, batch: int, concurrency: int, target: float) -> dict[str, Any]:
        rate = self.samples_accepted / self.seconds if self.seconds else 0.0
        return {
            "target_samples_per_s": target,
            "batch": batch,
            "concurrency": concurrency,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "samples_sent": self.samples_sent,
            "samples_accepted": self.samples_accepted,
            "samples_per_s": round(rate),
            "latency_ms": percentiles(self.latencies),
            # How late requests left against the schedule: the sender (or server) falling behind.
            "schedule_lag_ms": percentiles(self.lag),
            "failures": self.failures,
            "first_failure": self.first_failure,
        }


async def paced_load(
    client: httpx.AsyncClient,
    send: Callable[[httpx.AsyncClient, int], Any],
    *,
    first: int,
    batch: int,
    rate: float,
    concurrency: int,
    seconds: float | None = None,
    stop: asyncio.Event | None = None,
    last: int | None = None,
) -> LoadResult:
    """Send batches first, first+1, ... at `rate` samples/s (0 = as fast as answered) from
    `concurrency` workers, until `seconds` pass, `stop` is set or batch `last` is sent.

    `send(client, index)` posts one batch and returns the samples the server accepted; an
    httpx.HTTPStatusError or transport error counts as a failure.
    """
    result = LoadResult()
    interval = batch / rate if rate > 0 else 0.0
    loop = asyncio.get_running_loop()
    start = loop.time()
    next_index = first

    def done() -> bool:
        return (
            (seconds is not None and loop.time() - start >= seconds)
            or (stop is not None and stop.is_set())
            or (last is not None and next_index > last)
        )

    async def worker() -> None:
        nonlocal next_index
        while not done():
            index = next_index
            next_index += 1
            due = start + (index - first) * interval
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                if done():
                    return
            result.lag.append(max(loop.time() - due, 0.0))
            sent = time.perf_counter()
            try:
                accepted = await send(client, index)
            except (httpx.HTTPStatusError, httpx.TransportError) as exc:
                name = (
                    str(exc.response.status_code)
                    if isinstance(exc, httpx.HTTPStatusError)
                    else type(exc).__name__
                )
                result.failures[name] = result.failures.get(name, 0) + 1
                if result.first_failure is None:
                    detail = (
                        exc.response.text[:300] if isinstance(exc, httpx.HTTPStatusError) else ""
                    )
                    result.first_failure = f"{name}: {exc} {detail}".strip()
                continue
            finally:
                result.requests += 1
                result.samples_sent += batch
            result.latencies.append(time.perf_counter() - sent)
            result.samples_accepted += accepted
            result.accepted_batches.append(index)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = loop.time() - start
    return result


def json_sender(plan: Plan, bodies: dict[int, bytes]) -> Callable[[httpx.AsyncClient, int], Any]:
    """POST /ingest/samples with the (pre-built when present) JSON body of a batch."""

    async def send(client: httpx.AsyncClient, index: int) -> int:
        body = bodies.pop(index, None) or plan.json_body(index)
        response = await client.post(
            "/ingest/samples", content=body, headers={"content-type": "application/json"}
        )
        response.raise_for_status()
        accepted: int = json.loads(response.content)["accepted"]
        return accepted

    return send
