"""Tables of samples from CSV, Parquet or JSON-lines files, for scoring, backtesting and replay.

Two layouts: wide (an optional `timestamp` column, then one column per signal) and long
(`resource_id`, `metric`, `timestamp`, `value`). Timestamps may be ISO 8601 or epoch seconds.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.extras import require
from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.table import Table

#: Columns that hold labels, never read as signals (scoring is unsupervised).
LABEL_COLUMNS = frozenset({"label", "labels", "is_anomaly", "anomaly", "attack"})
TIME_COLUMNS = ("timestamp", "ts", "time")
LONG_COLUMNS = frozenset({"resource_id", "metric", "value"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


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


def _rows(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """The header, the rows as text, and where each row is in the file ("line 7", "row 3")."""
    if not path.is_file():
        raise InvalidInputError("file", f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _parquet_rows(path)
    if suffix in JSONL_SUFFIXES:
        return _jsonl_rows(path)
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise InvalidInputError("file", f"{path} is empty")
        rows, where = [], []
        for row in reader:
            if row:
                rows.append(row)
                where.append(f"line {reader.line_num}")
    header = [h.strip() for h in header]
    for row, at in zip(rows, where, strict=True):
        if len(row) != len(header):
            raise InvalidInputError(
                f"{path.name}: {at}",
                f"{len(row)} fields, expected {len(header)} as in the header",
            )
    return header, rows, where


def _text(value: Any) -> str:
    """A JSON or Parquet cell as the text a CSV cell would hold (None is a gap)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)  # true, lists, objects: refused by the number parser, named


def _jsonl_rows(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """One JSON object per line; the columns are every key, in the order first seen."""
    objects, where = [], []
    with path.open() as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise InvalidInputError(
                    f"{path.name}: line {n}", f"not valid JSON: {exc}"
                ) from None
            if not isinstance(obj, dict):
                raise InvalidInputError(f"{path.name}: line {n}", "must be a JSON object")
            objects.append(obj)
            where.append(f"line {n}")
    if not objects:
        raise InvalidInputError("file", f"{path} is empty")
    header = list(dict.fromkeys(k for obj in objects for k in obj))
    return header, [[_text(obj.get(k)) for k in header] for obj in objects], where


def _parquet_rows(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    require("pyarrow", "reading Parquet files")
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInputError(
            "file", f"{path.name} is not a readable Parquet file: {exc}"
        ) from None
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind):  # to epoch seconds, whatever the unit and zone
            per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
            cells = [None if v is None else v / per_s for v in column.cast(pa.int64()).to_pylist()]
        elif pa.types.is_date32(kind):
            cells = [None if v is None else v * 86_400 for v in column.cast(pa.int32()).to_pylist()]
        else:
            cells = column.to_pylist()
        columns.append([_text(v) for v in cells])
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    return table.column_names, rows, [f"row {i + 1}" for i in range(len(rows))]


def read_table(path: Path) -> Table:
    """A wide or long file (CSV, Parquet, JSON lines) as a wide table (long files become one
    column per resource/metric)."""
    header, rows, where = _rows(path)
    lower = [h.lower() for h in header]
    if set(lower) >= LONG_COLUMNS:
        return _long(path, header, rows, where)
    time_col = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    signal_cols = [j for j, h in enumerate(lower) if j != time_col and h not in LABEL_COLUMNS]
    ignored = [header[j] for j, h in enumerate(lower) if h in LABEL_COLUMNS]
    if not signal_cols:
        raise InvalidInputError("file", f"{path.name} has no signal column")
    values = np.array(
        [
            [_number(row[j], f"{path.name}: {at}, column {header[j]}") for j in signal_cols]
            for row, at in zip(rows, where, strict=True)
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(signal_cols))
    ts = None
    if time_col is not None:
        name = header[time_col]
        ts = np.array(
            [
                parse_time(row[time_col], f"{path.name}: {at}, column {name}")
                for row, at in zip(rows, where, strict=True)
            ]
        ).reshape(len(rows))
    return Table([header[j] for j in signal_cols], values, ts, ignored)


@dataclass(frozen=True, slots=True)
class _Cells:
    """A long file's rows: row i gave series keys[key[i]] the value values[i] at ts[i]."""

    keys: list[str]  # "resource_id/metric", in the order first seen
    ts: npt.NDArray[np.float64]
    key: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def _long_cells(path: Path, header: list[str], rows: list[list[str]], where: list[str]) -> _Cells:
    lower = [h.lower() for h in header]
    time_col = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    if time_col is None:
        raise InvalidInputError("file", f"{path.name}: a long table needs a timestamp column")
    r_col, m_col, v_col = lower.index("resource_id"), lower.index("metric"), lower.index("value")
    keys: dict[str, int] = {}
    ts, key, values = [], [], []
    for row, at in zip(rows, where, strict=True):
        here = f"{path.name}: {at}"
        resource, metric = row[r_col].strip(), row[m_col].strip()
        series = f"{resource}/{metric}"
        if series not in keys:  # names are checked once per series: they become ids
            if not RESOURCE_ID_RE.match(resource):
                raise InvalidInputError(
                    f"{here}, column {header[r_col]}",
                    f"{resource!r} is not a resource id (letters, digits and _ . : @ -)",
                )
            if not METRIC_NAME_RE.match(metric):
                raise InvalidInputError(
                    f"{here}, column {header[m_col]}",
                    f"{metric!r} is not a metric name ([a-zA-Z_][a-zA-Z0-9_:.]*)",
                )
            keys[series] = len(keys)
        ts.append(parse_time(row[time_col], f"{here}, column {header[time_col]}"))
        key.append(keys[series])
        values.append(_number(row[v_col], f"{here}, column {header[v_col]}"))
    return _Cells(
        list(keys),
        np.array(ts, dtype=np.float64),
        np.array(key, dtype=np.int64),
        np.array(values, dtype=np.float64),
    )


def _long(path: Path, header: list[str], rows: list[list[str]], where: list[str]) -> Table:
    cells = _long_cells(path, header, rows, where)
    times: dict[float, int] = {}
    for t in cells.ts.tolist():
        times.setdefault(t, len(times))
    stamps = sorted(times)
    position = {times[t]: k for k, t in enumerate(stamps)}  # first-seen order -> time order
    values = np.full((len(times), len(cells.keys)), np.nan)
    for t, k, v in zip(cells.ts.tolist(), cells.key.tolist(), cells.values.tolist(), strict=True):
        values[position[times[t]], k] = v
    return Table(cells.keys, values, np.array(stamps), [])


@dataclass(frozen=True, slots=True)
class Records:
    """Every sample of a file, in file order: series[index[i]] took values[i] at ts[i]."""

    series: list[tuple[str, str]]  # (resource_id, metric)
    ts: npt.NDArray[np.float64]
    index: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def read_records(path: Path, resource_id: str | None = None) -> Records:
    """The samples of a long file, or of a wide one whose columns are signals of `resource_id`;
    gaps (empty cells) are left out. A long file is never made dense (its series need not share
    timestamps)."""
    header, rows, where = _rows(path)
    lower = [h.lower() for h in header]
    if set(lower) >= LONG_COLUMNS:
        if resource_id is not None:
            raise InvalidInputError(
                "resource_id", f"{path.name} is a long table: its rows name their resources"
            )
        cells = _long_cells(path, header, rows, where)
        series = [(k.split("/", 1)[0], k.split("/", 1)[1]) for k in cells.keys]
        keep = ~np.isnan(cells.values)
        return Records(series, cells.ts[keep], cells.key[keep], cells.values[keep])
    if resource_id is None:
        raise InvalidInputError(
            "resource_id",
            f"{path.name} is a wide table (one column per signal): name the resource its "
            "columns belong to",
        )
    if not RESOURCE_ID_RE.match(resource_id):
        raise InvalidInputError("resource_id", "letters, digits and _ . : @ - only")
    table = read_table(path)
    if table.ts is None:
        raise InvalidInputError(
            "file", f"{path.name} has no time column ({', '.join(TIME_COLUMNS)})"
        )
    for column in table.columns:
        if not METRIC_NAME_RE.match(column):
            raise InvalidInputError(
                f"{path.name}: column {column}", "not a metric name ([a-zA-Z_][a-zA-Z0-9_:.]*)"
            )
    n_rows, n_cols = table.values.shape
    keep = ~np.isnan(table.values.ravel())
    return Records(
        [(resource_id, c) for c in table.columns],
        np.repeat(table.ts, n_cols)[keep],
        np.tile(np.arange(n_cols, dtype=np.int64), n_rows)[keep],
        table.values.ravel()[keep],
    )
