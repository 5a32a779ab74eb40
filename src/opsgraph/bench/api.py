"""`opsgraph bench api`: a real `opsgraph serve` process measured from outside, over HTTP.

Sustained JSON ingest and Prometheus remote write (samples/s, request latency), WebSocket fan-out
delay to many clients, and a final check that every accepted sample was stored and scored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect

from opsgraph import __version__
from opsgraph.bench.api_deep import deep_batch
from opsgraph.bench.api_load import SIGNAL_LEVELS, Plan, json_sender, paced_load, percentiles
from opsgraph.bench.api_server import Server, api_server
from opsgraph.core.errors import InvalidInputError

#: Calm points given to each probe series before its spike: the default ensemble's tail
#: members judge from about the 70th point (a member warm-up of 20, then 50 scores to calibrate).
PROBE_WARMUP = 100


@dataclass(frozen=True)
class ApiBenchConfig:
    resources: int = 1000
    signals: int = 5
    batch: int = 5000
    concurrency: int = 4
    rate: float = 50_000.0
    duration_s: float = 20.0
    warmup_s: float = 5.0
    remote_write_s: float = 20.0
    ws_clients: int = 500
    ws_events: int = 20
    ws_interval_s: float = 0.5
    #: Samples/s pushed while the fan-out is timed: None = `rate`, 0 = none.
    ws_background_rate: float | None = None
    #: Points of one series sent in one request beside the load (phase e); 0 skips it.
    deep_points: int = 95_000
    store_url: str | None = None

    def check(self) -> None:
        if not 1 <= self.signals <= len(SIGNAL_LEVELS):
            raise InvalidInputError("signals", f"must be 1 to {len(SIGNAL_LEVELS)}")
        for name in ("resources", "batch", "concurrency", "ws_events"):
            if getattr(self, name) < 1:
                raise InvalidInputError(name, "must be at least 1")
        if self.rate < 0 or self.duration_s <= 0 or min(self.remote_write_s, self.warmup_s) < 0:
            raise InvalidInputError("rate", "rate and durations must not be negative")


# -- phases ------------------------------------------------------------------------------------
def _probe_samples(probe: str, start_ts: float, values: list[float]) -> list[dict[str, Any]]:
    return [
        {"resource_id": probe, "metric": "cpu", "ts": start_ts + 15.0 * i, "value": v}
        for i, v in enumerate(values)
    ]


def _calm(n: int) -> list[float]:
    return [45.0 + (i % 7) * 0.5 for i in range(n)]


async def _setup(client: httpx.AsyncClient, plan: Plan, probes: list[str]) -> int:
    """Register the estate and warm the probe series; returns the samples accepted."""
    resources = [{"id": r, "kind": "ec2"} for r in plan.resource_ids]
    resources += [{"id": p, "kind": "ec2"} for p in probes]
    (await client.post("/resources", json={"resources": resources})).raise_for_status()
    samples = [s for p in probes for s in _probe_samples(p, plan.start_ts, _calm(PROBE_WARMUP))]
    response = await client.post("/ingest/samples", json={"samples": samples})
    response.raise_for_status()
    accepted: int = response.json()["accepted"]
    return accepted


class _RemoteWrite:
    """POST /api/v1/write of a batch as Prometheus sends it (snappy protobuf)."""

    HEADERS = {
        "content-encoding": "snappy",
        "content-type": "application/x-protobuf",
        "x-prometheus-remote-write-version": "0.1.0",
    }

    def __init__(self, plan: Plan) -> None:
        # Imported here: the receiver's encoder is optional to the rest of the bench.
        from opsgraph.sources.prom_proto import PromSeries, encode_write_request

        self.plan = plan
        self._series = PromSeries
        self._encode = encode_write_request
        self.bodies: dict[int, bytes] = {}

    def body(self, index: int) -> bytes:
        plan = self.plan
        series, ts, values = plan.columns(index)
        return self._encode(
            self._series(
                {"__name__": plan.key(s)[1], "instance": plan.key(s)[0]}, [(round(t * 1000), v)]
            )
            for s, t, v in zip(series.tolist(), ts.tolist(), values.tolist(), strict=True)
        )

    async def __call__(self, client: httpx.AsyncClient, index: int) -> int:
        payload = self.bodies.pop(index, None) or self.body(index)
        response = await client.post("/api/v1/write", content=payload, headers=self.HEADERS)
        response.raise_for_status()
        return int(response.headers.get("x-opsgraph-samples-accepted", "0"))


class _Listeners:
    """WebSocket clients recording when each probe's anomaly:new reaches them."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.count = count
        self.arrivals: list[dict[str, float]] = [{} for _ in range(count)]
        self._sockets: list[ClientConnection] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> float:
        """Connect every client (50 at a time); returns the seconds it took."""
        started = time.perf_counter()
        for first in range(0, self.count, 50):
            chunk = range(first, min(first + 50, self.count))
            self._sockets += await asyncio.gather(*(self._connect() for _ in chunk))
        self._tasks = [
            asyncio.create_task(self._listen(i, ws)) for i, ws in enumerate(self._sockets)
        ]
        return time.perf_counter() - started

    async def _connect(self) -> ClientConnection:
        ws = await connect(self.url, ping_interval=None, max_size=None, open_timeout=60)
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"unexpected first message {hello!r}")
        return ws

    async def _listen(self, i: int, ws: ClientConnection) -> None:
        mine = self.arrivals[i]
        with contextlib.suppress(Exception):  # the socket closing ends the listener
            async for raw in ws:
                # Only anomaly:new is timed: skip decoding everything else.
                if isinstance(raw, str) and '"anomaly:new"' in raw:
                    now = time.perf_counter()
                    mine.setdefault(json.loads(raw)["data"]["resource_id"], now)

    def received(self, probe: str) -> int:
        return sum(probe in a for a in self.arrivals)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self._sockets), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _fan_out(
    client: httpx.AsyncClient, server: Server, plan: Plan, probes: list[str], cfg: ApiBenchConfig
) -> dict[str, Any]:
    listeners = _Listeners(server.url.replace("http://", "ws://") + "/ws", cfg.ws_clients)
    connect_s = await listeners.open()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    accepted = 0
    try:
        for k, probe in enumerate(probes):
            await asyncio.sleep(cfg.ws_interval_s)
            spike = _probe_samples(probe, plan.start_ts + 15.0 * PROBE_WARMUP, [99.0, 99.5])
            started = time.perf_counter()
            response = await client.post("/ingest/samples", json={"samples": spike})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            accepted += response.json()["accepted"]
            if any(a["resource_id"] == probe for a in response.json()["anomalies"]):
                sent[probe] = started
            else:
                raise RuntimeError(f"spike {k} on {probe} opened no anomaly")
        deadline = time.perf_counter() + 10.0
        while time.perf_counter() < deadline and any(
            listeners.received(p) < cfg.ws_clients for p in sent
        ):
            await asyncio.sleep(0.05)
    finally:
        await listeners.close()
    delays = [a[p] - t for a in listeners.arrivals for p, t in sent.items() if p in a]
    expected = len(sent) * cfg.ws_clients
    return {
        "clients": cfg.ws_clients,
        "connect_s": round(connect_s, 2),
        "events": len(sent),
        "deliveries": len(delays),
        "missed": expected - len(delays),
        "delay_ms": percentiles(delays),
        "spike_request_ms": percentiles(latencies),
        "samples_accepted": accepted,
    }


def _stored_counts(server: Server) -> dict[tuple[str, str], int]:
    engine = sa.create_engine(server.store_url, connect_args=server.connect_args)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT s.resource_id, s.metric, count(*) FROM samples x "
                    "JOIN series s ON s.id = x.series_id GROUP BY s.resource_id, s.metric"
                )
            ).all()
    finally:
        engine.dispose()
    return {(r, m): int(n) for r, m, n in rows}


def _integrity(
    server: Server,
    plan: Plan,
    batches: list[int],
    probes: dict[str, int],
    accepted_total: int,
    health: dict[str, Any],
) -> dict[str, Any]:
    expected = {plan.key(i): int(n) for i, n in enumerate(plan.counts(batches)) if n}
    expected |= {(p, "cpu"): n for p, n in probes.items()}
    stored = _stored_counts(server)
    sent_total = sum(expected.values())
    missing = sum(max(n - stored.get(k, 0), 0) for k, n in expected.items())
    extra = sum(max(n - expected.get(k, 0), 0) for k, n in stored.items())
    last_ts = plan.last_ts(batches)
    return {
        "samples_sent_and_accepted": sent_total,
        "samples_scored": accepted_total,
        "samples_stored": sum(stored.values()),
        "series": len(expected),
        "series_mismatched": sum(stored.get(k, 0) != n for k, n in expected.items()),
        "missing": missing,
        "extra": extra,
        "server_latest_ts": health.get("latest_ts"),
        "latest_ts_sent": last_ts,
        "ok": missing == 0
        and extra == 0
        and accepted_total == sent_total
        and (last_ts is None or (health.get("latest_ts") or 0) >= last_ts),
    }


async def _run(cfg: ApiBenchConfig, server: Server, say: Callable[[str], None]) -> dict[str, Any]:
    metrics = list(SIGNAL_LEVELS)[: cfg.signals]
    start_ts = math.floor(time.time() / 3600) * 3600 - 7 * 86_400.0
    plan = Plan(
        [f"res-{i:05d}" for i in range(cfg.resources)], metrics, batch=cfg.batch, start_ts=start_ts
    )
    probes = [f"probe-{k:04d}" for k in range(cfg.ws_events)]
    limits = httpx.Limits(
        max_connections=cfg.concurrency + 2, max_keepalive_connections=cfg.concurrency + 2
    )
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        warm_accepted = await _setup(client, plan, probes)
        load_rate = cfg.rate if cfg.rate > 0 else 100_000.0
        n_a = math.ceil(load_rate * (cfg.warmup_s + cfg.duration_s) / cfg.batch) + cfg.concurrency
        say(f"building {n_a} JSON batches of {cfg.batch:,} samples")
        bodies = {i: plan.json_body(i) for i in range(n_a)}
        batches: list[int] = []
        accepted = warm_accepted
        next_batch = 0
        phases = [
            ("warmup", "warm-up (not timed)", cfg.warmup_s),
            ("ingest_json", "(a) JSON ingest", cfg.duration_s),
        ]
        for name, label, seconds in phases:
            if seconds <= 0:
                continue
            # The warm-up registers the series and fills detector windows: steady state after.
            say(f"{label} for {seconds:g} s at {cfg.rate:,.0f} samples/s")
            run = await paced_load(
                client,
                json_sender(plan, bodies),
                first=next_batch,
                batch=cfg.batch,
                rate=cfg.rate,
                concurrency=cfg.concurrency,
                seconds=seconds,
            )
            report[name] = run.summary(cfg.batch, cfg.concurrency, cfg.rate)
            batches += run.accepted_batches
            accepted += run.samples_accepted
            next_batch = max(run.accepted_batches, default=next_batch) + cfg.concurrency + 1
        bodies.clear()

        if cfg.remote_write_s == 0:
            report["remote_write"] = {"skipped": "duration 0"}
        else:
            remote = _RemoteWrite(plan)
            # Its own warm-up: the receiver maps each new label set once, then remembers it.
            rw_warmup = min(cfg.warmup_s, 2.0)
            seconds_total = rw_warmup + cfg.remote_write_s
            n_b = math.ceil(load_rate * seconds_total / cfg.batch) + 2 * cfg.concurrency
            say(f"building {n_b} remote-write batches")
            remote.bodies = {next_batch + i: remote.body(next_batch + i) for i in range(n_b)}
            for name, label, seconds in (
                ("remote_write_warmup", "remote-write warm-up (not timed)", rw_warmup),
                ("remote_write", "(b) remote write", cfg.remote_write_s),
            ):
                if seconds <= 0:
                    continue
                say(f"{label} for {seconds:g} s")
                run_b = await paced_load(
                    client,
                    remote,
                    first=next_batch,
                    batch=cfg.batch,
                    rate=cfg.rate,
                    concurrency=cfg.concurrency,
                    seconds=seconds,
                )
                report[name] = run_b.summary(cfg.batch, cfg.concurrency, cfg.rate)
                batches += run_b.accepted_batches
                accepted += run_b.samples_accepted
                next_batch = max(run_b.accepted_batches, default=next_batch) + cfg.concurrency + 1
            remote.bodies.clear()

        background_rate = cfg.rate if cfg.ws_background_rate is None else cfg.ws_background_rate
        say(
            f"(c) WebSocket fan-out to {cfg.ws_clients} clients, "
            f"ingest going on at {background_rate:,.0f} samples/s"
        )
        stop = asyncio.Event()
        background = (
            asyncio.create_task(
                paced_load(
                    client,
                    json_sender(plan, bodies),
                    first=next_batch,
                    batch=cfg.batch,
                    rate=background_rate,
                    concurrency=cfg.concurrency,
                    stop=stop,
                )
            )
            if background_rate > 0
            else None
        )
        try:
            report["websocket"] = await _fan_out(client, server, plan, probes, cfg)
        finally:
            stop.set()
            run_c = await background if background is not None else None
        accepted += report["websocket"]["samples_accepted"]
        if run_c is not None:
            report["websocket"]["background_ingest"] = run_c.summary(
                cfg.batch, cfg.concurrency, background_rate
            )
            batches += run_c.accepted_batches
            accepted += run_c.samples_accepted
        # Each probe: its warm-up, then the two points of its spike.
        probe_counts = dict.fromkeys(probes, PROBE_WARMUP + 2)

        if cfg.deep_points > 0:
            say(f"(e) {cfg.deep_points:,} points of one series in one request, ingest going on")
            deep, deep_batches, deep_counts = await deep_batch(
                client,
                plan,
                points=cfg.deep_points,
                first_batch=max(batches, default=next_batch) + cfg.concurrency + 1,
                batch=cfg.batch,
                rate=background_rate,
                concurrency=cfg.concurrency,
            )
            report["deep_batch"] = deep
            batches += deep_batches
            accepted += deep["samples_accepted"]
            probe_counts |= deep_counts
        else:
            report["deep_batch"] = {"skipped": "deep_points 0"}

        say("(d) checking the store")
        health = (await client.get("/health")).json()
    report["integrity"] = await asyncio.to_thread(
        _integrity, server, plan, batches, probe_counts, accepted, health
    )
    return report


def run_api_bench(cfg: ApiBenchConfig, console: Console | None = None) -> dict[str, Any]:
    """Start a server, run every phase against it, and return the report as plain data."""
    cfg.check()
    say = console.print if console is not None else (lambda *a, **k: None)
    load_before = os.getloadavg()
    # One INFO line per request from httpx would drown the progress lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    kind = "postgresql" if cfg.store_url else "sqlite"
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = time.process_time()
    with api_server(cfg.store_url) as server:
        say(f"server at {server.url} ({'PostgreSQL' if cfg.store_url else 'SQLite'})")
        report = asyncio.run(_run(cfg, server, say))
        server_log = server.log.read_text()
    errors = [line for line in server_log.splitlines() if "ERROR" in line or "Traceback" in line]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Where the CPU went: the server (start-up included) against the load generator.
    cpu = {
        "server_s": round(
            children.ru_utime
            + children.ru_stime
            - children_before.ru_utime
            - children_before.ru_stime,
            2,
        ),
        "bench_client_s": round(time.process_time() - own_before, 2),
    }
    return {
        "benchmark": "api",
        "opsgraph": __version__,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        # The store URL may hold a password: the report names the kind only.
        "config": asdict(cfg) | {"store_url": None, "store": kind},
        **report,
        "cpu": cpu,
        "server_errors": errors[:20],
    }


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"opsgraph bench api ({report['config']['store']})")
    for col in ("phase", "samples/s", "batch x conc.", "p50 ms", "p95 ms", "p99 ms", "failures"):
        table.add_column(col, justify="right")
    for name, key in (("JSON ingest", "ingest_json"), ("remote write", "remote_write")):
        row = report.get(key, {})
        if "skipped" in row:
            table.add_row(name, "-", "-", "-", "-", "-", row["skipped"])
            continue
        lat = row["latency_ms"]
        table.add_row(
            name,
            f"{row['samples_per_s']:,}",
            f"{row['batch']:,} x {row['concurrency']}",
            str(lat["p50"]),
            str(lat["p95"]),
            str(lat["p99"]),
            str(sum(row["failures"].values())),
        )
    console.print(table)
    ws = report["websocket"]
    delay = ws["delay_ms"]
    meanwhile = ws.get("background_ingest")
    console.print(
        f"WebSocket fan-out: {ws['clients']} clients, {ws['events']} anomalies, "
        + (f"ingest at {meanwhile['samples_per_s']:,} samples/s meanwhile, " if meanwhile else "")
        + f"spike request p50 {ws['spike_request_ms']['p50']} ms; "
        f"{ws['deliveries']} deliveries ({ws['missed']} missed); delay from the ingest request "
        f"p50 {delay['p50']} ms, p99 {delay['p99']} ms, max {delay['max']} ms"
    )
    deep = report.get("deep_batch", {})
    if "skipped" not in deep:
        console.print(
            f"one series' {deep['points']:,} points in one request ({deep['body_mb']} MB): "
            f"{deep['seconds']} s; meanwhile GET /health p99 "
            f"{deep['health_ms_meanwhile']['p99']} ms, max {deep['health_ms_meanwhile']['max']} "
            f"ms (before it, under the load alone: p99 {deep['health_ms_before']['p99']} ms), "
            f"and a one-sample push beside it {deep['one_sample_push_beside_ms']} ms"
        )
    console.print(
        f"CPU seconds: server {report['cpu']['server_s']}, "
        f"benchmark client {report['cpu']['bench_client_s']}"
    )
    check = report["integrity"]
    console.print(
        f"integrity: {check['samples_sent_and_accepted']:,} accepted, "
        f"{check['samples_scored']:,} scored, {check['samples_stored']:,} stored, "
        f"{check['missing']} missing, {check['extra']} extra -> "
        + ("[green]nothing lost[/]" if check["ok"] else "[red]MISMATCH[/]")
    )
