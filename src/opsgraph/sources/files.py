"""Tables of samples from CSV files, for scoring, backtesting and replay.

Two layouts: wide (an optional `timestamp` column, then one column per signal) and long
(`resource_id`, `metric`, `timestamp`, `value`). Timestamps may be ISO 8601 or epoch seconds.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError

#: Columns that hold labels, never read as signals (scoring is unsupervised).
LABEL_COLUMNS = frozenset({"label", "labels", "is_anomaly", "anomaly", "attack"})
TIME_COLUMNS = ("timestamp", "ts", "time")
LONG_COLUMNS = frozenset({"resource_id", "metric", "value"})


@dataclass(frozen=True, slots=True)
class Table:
    """Rows in file order: ts[i] (None when the file has no time column) and values[i, j]."""

    columns: list[str]
    values: npt.NDArray[np.float64]
    ts: npt.NDArray[np.float64] | None
    ignored: list[str]


def parse_time(text: str, where: str) -> float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        try:
            stamp = np.datetime64(text.replace(" ", "T").removesuffix("Z"), "ms")
        except ValueError:
            raise InvalidInputError(
                where, f"{text!r} is neither ISO 8601 nor epoch seconds"
            ) from None
        return float(stamp.astype(np.int64)) / 1e3
    if not math.isfinite(value):
        raise InvalidInputError(where, f"{text!r} is not a finite time")
    return value


def _number(text: str, where: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in {"nan", "null", "none"}:
        return math.nan  # a gap
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(where, f"{text!r} is not a number") from None
    if math.isinf(value):
        raise InvalidInputError(where, "infinite values are refused")
    return value


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise InvalidInputError("file", f"{path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise InvalidInputError("file", f"{path} is empty")
        rows = [r for r in reader if r]
    header = [h.strip() for h in header]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise InvalidInputError(
                f"{path.name}: line {i + 2}",
                f"{len(row)} fields, expected {len(header)} as in the header",
            )
    return header, rows


def read_table(path: Path) -> Table:
    """A wide or long CSV as a wide table (long files become one column per resource/metric)."""
    header, rows = _rows(path)
    lower = [h.lower() for h in header]
    if set(lower) >= LONG_COLUMNS:
        return _long(path, lower, rows)
    time_col = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    signal_cols = [j for j, h in enumerate(lower) if j != time_col and h not in LABEL_COLUMNS]
    ignored = [header[j] for j, h in enumerate(lower) if h in LABEL_COLUMNS]
    if not signal_cols:
        raise InvalidInputError("file", f"{path.name} has no signal column")
    values = np.array(
        [
            [_number(row[j], f"{path.name}: line {i + 2}, column {header[j]}") for j in signal_cols]
            for i, row in enumerate(rows)
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(signal_cols))
    ts = None
    if time_col is not None:
        ts = np.array(
            [parse_time(row[time_col], f"{path.name}: line {i + 2}") for i, row in enumerate(rows)]
        )
    return Table([header[j] for j in signal_cols], values, ts, ignored)


def _long(path: Path, lower: list[str], rows: list[list[str]]) -> Table:
    time_col = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    if time_col is None:
        raise InvalidInputError("file", f"{path.name}: a long table needs a timestamp column")
    r_col, m_col, v_col = lower.index("resource_id"), lower.index("metric"), lower.index("value")
    keys: dict[str, int] = {}
    times: dict[float, int] = {}
    cells: list[tuple[int, int, float]] = []
    for i, row in enumerate(rows):
        where = f"{path.name}: line {i + 2}"
        key = f"{row[r_col].strip()}/{row[m_col].strip()}"
        t = parse_time(row[time_col], where)
        cells.append(
            (
                times.setdefault(t, len(times)),
                keys.setdefault(key, len(keys)),
                _number(row[v_col], where),
            )
        )
    stamps = sorted(times)
    position = {times[t]: k for k, t in enumerate(stamps)}  # first-seen order -> time order
    values = np.full((len(times), len(keys)), np.nan)
    for t, k, v in cells:
        values[position[t], k] = v
    return Table(list(keys), values, np.array(stamps), [])


def table_from_series(series: dict[tuple[str, str], tuple[list[float], list[float]]]) -> Table:
    """A wide table from (resource, metric) -> (timestamps, values), aligned on timestamps."""
    stamps = sorted({t for ts, _ in series.values() for t in ts})
    if not stamps:
        raise InvalidInputError("store", "no samples in the chosen range")
    row = {t: i for i, t in enumerate(stamps)}
    values = np.full((len(stamps), len(series)), np.nan)
    for j, (ts, vs) in enumerate(series.values()):
        for t, v in zip(ts, vs, strict=True):
            values[row[t], j] = v
    columns = [f"{r}/{m}" for r, m in series]
    return Table(columns, values, np.array(stamps), [])
