"""Root-cause inputs from files: a wide metrics CSV and an optional edge list.

Metrics: a `time` (or `timestamp`) column, then one column per `<node>_<metric>`; the node is
everything before the first underscore, so node names may contain `-` and metric names `_`
(`carts-db_cpu`, `carts_lat_90`). Edges: `source,target[,kind]` per line, caller -> callee,
with an optional header; kind is `calls` (the default) or `member` (source is a group such as an
Auto Scaling group, target one of its members).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.sources.files import read_table

FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class MetricTable:
    times: FloatArray
    nodes: list[str]
    metrics: list[str]
    values: FloatArray  # [rows, columns]

    def concat(self, other: MetricTable) -> MetricTable:
        """Rows of `other` after these; columns matched by name (missing ones are NaN)."""
        index = {(n, m): k for k, (n, m) in enumerate(zip(other.nodes, other.metrics, strict=True))}
        extra = np.full((other.values.shape[0], len(self.nodes)), np.nan)
        for k, key in enumerate(zip(self.nodes, self.metrics, strict=True)):
            if key in index:
                extra[:, k] = other.values[:, index[key]]
        return MetricTable(
            np.concatenate([self.times, other.times]),
            self.nodes,
            self.metrics,
            np.vstack([self.values, extra]),
        )

    def row_at(self, when: float) -> int:
        """The first row at or after `when` (a timestamp of the time column)."""
        after = np.flatnonzero(self.times >= when)
        if after.shape[0] == 0:
            raise InvalidInputError("fault_time", f"{when} is after the last row")
        return int(after[0])


def read_metrics(path: Path) -> MetricTable:
    """The wide CSV through the shared reader (sources/files.py), then the RCA layout: a time
    column and `<node>_<metric>` columns."""
    table = read_table(path)
    if table.ts is None:
        raise InvalidInputError("metrics", f"{path} has no time column (time or timestamp)")
    nodes, metrics = [], []
    for column in table.columns:
        node, sep, metric = column.partition("_")
        if not sep or not node or not metric:
            raise InvalidInputError("metrics", f"column {column!r} is not <node>_<metric>")
        nodes.append(node)
        metrics.append(metric)
    if table.values.shape[0] < 2:
        raise InvalidInputError("metrics", f"{path} needs at least two rows")
    return MetricTable(table.ts, nodes, metrics, table.values)


@dataclass(slots=True)
class Edges:
    calls: list[tuple[str, str]]
    members: list[tuple[str, str]]


def read_edges(path: Path, known: set[str] | None = None) -> Edges:
    """Calls and memberships; with `known`, an edge naming another node is an error."""
    if not path.is_file():
        raise InvalidInputError("graph", f"{path} not found")
    out = Edges([], [])
    with path.open(newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in row]
            if not cells or not any(cells):
                continue
            if line == 1 and [c.lower() for c in cells[:2]] == ["source", "target"]:
                continue
            if len(cells) not in (2, 3) or not cells[0] or not cells[1]:
                raise InvalidInputError("graph", f"line {line}: expected source,target[,kind]")
            kind = cells[2].lower() if len(cells) == 3 and cells[2] else "calls"
            if kind not in ("calls", "member"):
                raise InvalidInputError("graph", f"line {line}: kind {kind!r} is not calls/member")
            for name in cells[:2]:
                if known is not None and name not in known:
                    raise InvalidInputError(
                        "graph", f"line {line}: node {name!r} has no column in the metrics"
                    )
            (out.calls if kind == "calls" else out.members).append((cells[0], cells[1]))
    return out
