"""`opsgraph bench forecast`: day-ahead load forecasts on three real traces, rolling origin.

Traces (../shared/data/traces, README there): Azure VM CPU 2019 (`cpu_usage`, 5 min, 30 days),
Bitbrains Rnd aggregate (`cpu_usage_mhz`, 5 min, ~13 weeks, whole days missing) and NASA
HTTP 1995 (`requests` per minute summed to 5 minutes; a 5-minute bin with a minute whose
status is not `ok`, or with a minute missing, is a gap).

Protocol: the last `days` whole days of each trace are the test. For each test day, every
forecaster is fitted on all the data before the day and forecasts its 288 five-minute steps
(24 h). Each forecaster is wrapped in `Conformal(calibration_fraction=0.2)`, so its mean is
the bare forecaster refitted on all history and its 80 % interval is the q 0.1 - 0.9 band.

MASE: per test day, the MAE over the day's finite points divided by the in-sample MAE of the
weekly seasonal naive on that day's training history (mean |y[t] - y[t - 1 week]| over pairs
where both are finite); the figure is the mean of the days' ratios. Coverage: the share of all
finite test points (every test day pooled) inside the 80 % interval.
"""

from __future__ import annotations

import csv
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast import Conformal, create

STEP_S = 300.0
DAY_S = 86_400.0
WEEK_STEPS = 2016
FORECASTERS: tuple[str, ...] = (
    "naive",
    "seasonal_naive",
    "seasonal_naive_weekly",
    "holt_winters",
    "seasonal_profile",
)
TRACES: tuple[str, ...] = ("azure_vm_cpu_2019", "bitbrains_rnd", "nasa_http_1995")


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InvalidInputError("data", f"{path} not found (see ../shared/data/traces/README.md)")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _epoch(text: str) -> float:
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:  # NASA's local time: only differences matter here
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _regular(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every 5-minute stamp from the first to the last, NaN where none was given."""
    idx = np.rint((ts - ts[0]) / STEP_S).astype(np.int64)
    out = np.full(int(idx[-1]) + 1, np.nan)
    out[idx] = values
    return ts[0] + STEP_S * np.arange(out.size), out


def load_trace(data: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps in seconds every 5 minutes, values with NaN for gaps) of one trace."""
    if name == "azure_vm_cpu_2019":
        rows = _rows(data / name / "vm_cpu_readings_month_aggregated_cpu_mem.csv")
        ts = np.array([float(r["timestamp"]) for r in rows])
        values = np.array([float(r["cpu_usage"]) for r in rows])
    elif name == "bitbrains_rnd":
        rows = _rows(data / name / "bitbrains_rnd_aggregate_5min.csv")
        ts = np.array([_epoch(r["timestamp_utc"]) for r in rows])
        values = np.array([float(r["cpu_usage_mhz"] or "nan") for r in rows])
    elif name == "nasa_http_1995":
        rows = _rows(data / name / "nasa_requests_1min.csv")
        minute = np.array([_epoch(r["timestamp_edt"]) for r in rows])
        ok = np.array([r["status"] == "ok" and r["requests"] != "" for r in rows])
        req = np.array([float(r["requests"]) if r["requests"] else math.nan for r in rows])
        bins = np.floor(minute / STEP_S).astype(np.int64)
        first = int(bins[0])
        pos = bins - first
        total = np.bincount(pos, weights=np.where(ok, req, 0.0))
        good = np.bincount(pos, weights=ok.astype(float))
        values = np.where(good == STEP_S / 60, total, np.nan)
        ts = (first + np.arange(values.size)) * STEP_S
    else:
        raise InvalidInputError("trace", f"unknown trace {name!r} (known: {', '.join(TRACES)})")
    order = np.argsort(ts, kind="stable")
    return _regular(ts[order], values[order])


def weekly_scale(history: np.ndarray) -> float:
    """In-sample MAE of the weekly seasonal naive (finite pairs one week apart)."""
    diff = np.abs(history[WEEK_STEPS:] - history[:-WEEK_STEPS])
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        raise InvalidInputError("data", "less than a week of history: no weekly MASE scale")
    return float(diff.mean())


def evaluate_trace(
    ts: np.ndarray, values: np.ndarray, forecasters: tuple[str, ...], days: int
) -> list[dict[str, Any]]:
    """Rolling-origin day-ahead figures of each forecaster on one trace."""
    end = ts[-1] + STEP_S
    per_day = int(DAY_S / STEP_S)
    origins = [int(np.searchsorted(ts, end - d * DAY_S)) for d in range(days, 0, -1)]
    results = []
    for name in forecasters:
        ratios: list[float] = []
        inside = total = 0
        abs_err: list[float] = []
        started = time.perf_counter()
        for cut in origins:
            train_ts, train = ts[:cut], values[:cut]
            truth = values[cut : cut + per_day]
            model = Conformal(create(name), calibration_fraction=0.2).fit(train_ts, train)
            fc = model.predict(DAY_S, STEP_S, quantiles=(0.1, 0.5, 0.9))
            assert np.allclose(fc.ts, ts[cut : cut + per_day])
            lo, hi = fc.interval(0.1, 0.9)
            ok = np.isfinite(truth)
            err = np.abs(truth[ok] - fc.mean[ok])
            if err.size:
                ratios.append(float(err.mean()) / weekly_scale(train))
                abs_err.extend(err.tolist())
            inside += int(np.sum((truth[ok] >= lo[ok]) & (truth[ok] <= hi[ok])))
            total += int(ok.sum())
        results.append(
            {
                "forecaster": name,
                "mase": float(np.mean(ratios)),
                "mase_per_day": ratios,
                "mae": float(np.mean(abs_err)),
                "coverage_80": inside / total if total else math.nan,
                "test_points": total,
                "seconds": time.perf_counter() - started,
            }
        )
    return results


def run_forecast_bench(
    data: Path,
    traces: tuple[str, ...] = TRACES,
    forecasters: tuple[str, ...] = FORECASTERS,
    days: int = 5,
) -> dict[str, Any]:
    """Every forecaster on every trace; see the module's docstring for the protocol."""
    if days < 1:
        raise InvalidInputError("days", f"must be at least 1, got {days}")
    started = time.perf_counter()
    report: dict[str, Any] = {
        "protocol": f"rolling origin over the last {days} days: fit on all data before each "
        "day, forecast its 288 five-minute steps; Conformal(calibration_fraction=0.2) intervals",
        "mase_scale": "in-sample MAE of the weekly seasonal naive on each day's training "
        "history; MASE = mean over the days of MAE / scale",
        "coverage": "share of finite test points inside the q0.1-q0.9 interval (nominal 0.8)",
        "traces": [],
    }
    for name in traces:
        ts, values = load_trace(data, name)
        report["traces"].append(
            {
                "trace": name,
                "points": int(values.size),
                "gaps": int(np.isnan(values).sum()),
                "results": evaluate_trace(ts, values, forecasters, days),
            }
        )
    report["wall_s"] = time.perf_counter() - started
    return report
