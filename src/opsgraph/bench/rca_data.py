"""Real root-cause cases for `opsgraph bench rca --data`: Nezha's Train-Ticket faults and the
PetShop training issues, read into the benchmark's `Case` (the Sock Shop layout is read in
rca.py). `detect_layout` tells the three layouts apart by their files.

Nezha (`rca_data/<day>/`): one case per injected fault. Nodes are services: the pods of a
service (the label is the pod name without its last two `-` fields) are averaged per metric and
minute; in the two published days every service runs one pod, so the average is that pod. The
host-level columns (`Node*`: the Kubernetes node's CPU, memory and network, shared by every pod
on it) and the front end's summary file are left out: they describe no service. Rows are
minutes; a fault starts at the first row sampled (the minute's earliest `Time[:19]`) after its
`inject_time`. A case is up to `before` rows before the start and up to `after` rows from it,
cut so that no other fault's rows are in it: a fault is taken to last `fault_rows` rows (the CPU
faults of the data last about four), its normal rows begin where the previous fault's end, or,
for faults closer than that, `MIN_NORMAL_ROWS` before the start, and its rows stop at the next
fault's start. `dependency.csv` (`Source,Target[,Weight]`), where a day has one, gives the calls.

PetShop (`<scenario>/graph.csv`, `noissue/`, `train/issue_N/`): one case per issue; nodes are
the components, the metrics `latency` (the Average), `latency_p50` ... `latency_p99`,
`requests` (the Sum) and `availability`. Each row is a 5-minute bucket labelled by its start,
so the fault starts at the bucket holding the issue's timestamp (the second of the five rows).
Where the scenario has `noissue/metrics.csv` (low and high traffic), its rows come first as a
baseline recorded months apart: `Case.search_from` marks where the issue's own recording starts,
and onset estimators look only from there on. The temporal scenarios have one normal row: the
first of the issue's file. With `slo_hint`, `Case.slo` holds the violated SLO's column (PetSite's
latency or availability), which rankers may use.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from opsgraph.bench.rca_case import Case
from opsgraph.core.errors import InvalidInputError
from opsgraph.explain.evidence import FloatArray
from opsgraph.sources.case_files import read_metrics

#: Nezha: a fault's assumed length in rows (minutes), and the fewest normal rows a case keeps
#: when faults are closer together than that.
FAULT_ROWS = 5
MIN_NORMAL_ROWS = 2
#: Nezha columns that are not metrics of the pod.
_NEZHA_SKIP = frozenset({"Time", "TimeStamp", "PodName"})


def detect_layout(root: Path) -> str:
    """'sockshop', 'nezha' or 'petshop', from the files under `root`."""
    if not root.is_dir():
        raise InvalidInputError("data", f"{root} is not a folder")
    if (root / "rca_data").is_dir() or any(root.glob("*/*-fault_list.json")):
        return "nezha"
    if any(root.glob("*/graph.csv")) or (root / "train").is_dir():
        return "petshop"
    if any(root.glob("*/*/anomalous.csv")):
        return "sockshop"
    raise InvalidInputError(
        "data",
        f"{root}: no known layout (Sock Shop */*/anomalous.csv, Nezha rca_data/, "
        "PetShop */graph.csv or train/)",
    )


def real_cases(root: Path, *, slo_hint: bool = False) -> list[Case]:
    """The cases of whichever layout `root` holds."""
    layout = detect_layout(root)
    if layout == "nezha":
        return list(nezha_cases(root))
    if layout == "petshop":
        return list(petshop_cases(root, slo_hint=slo_hint))
    return list(sockshop_cases(root))


def sockshop_cases(root: Path) -> Iterator[Case]:
    """The Sock Shop layout: <service>-<fault>/<run>/normal.csv and anomalous.csv. The two files
    were recorded apart, but the join is the fault start: onsets are searched over both."""
    found = sorted(p for p in root.glob("*/*") if (p / "anomalous.csv").is_file())
    if not found:
        raise InvalidInputError("data", f"no <case>/<run>/anomalous.csv under {root}")
    for run in found:
        service, _, fault = run.parent.name.rpartition("-")
        normal = read_metrics(run / "normal.csv")
        table = normal.concat(read_metrics(run / "anomalous.csv"))
        yield Case(
            name=f"{run.parent.name}/{run.name}",
            kind=fault,
            nodes=table.nodes,
            metrics=table.metrics,
            values=table.values,
            fault_row=normal.values.shape[0],
            edges=[],
            members=[],
            root=service,
            affected=None,
        )


def _service(pod: str) -> str:
    return pod.rsplit("-", 2)[0] if pod.count("-") >= 2 else pod


def _metric_name(header: str) -> str:
    return header.split("(", 1)[0].strip()


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _nezha_day(
    day: Path,
) -> tuple[list[str], list[str], list[str], FloatArray, list[tuple[str, str]]]:
    """A day's services x metrics by minute: (row times, nodes, metrics, values, edges)."""
    folder = day / "metric"
    files = sorted(folder.glob("*_metric.csv"))
    if not files:
        raise InvalidInputError("data", f"{folder} has no <pod>_metric.csv")
    # (service, metric) -> minute -> pod values; minute -> earliest sample time
    cells: dict[tuple[str, str], dict[str, list[float]]] = {}
    first_seen: dict[str, str] = {}
    for path in files:
        service = _service(path.name.removesuffix("_metric.csv"))
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            columns = [
                (k, _metric_name(h))
                for k, h in enumerate(header)
                if h not in _NEZHA_SKIP and not h.startswith("Node")
            ]
            for row in reader:
                if len(row) < len(header) or len(row[0]) < 19:
                    continue
                stamp = row[0][:19]
                minute = stamp[:16]
                if stamp < first_seen.get(minute, "~"):
                    first_seen[minute] = stamp
                for k, metric in columns:
                    cells.setdefault((service, metric), {}).setdefault(minute, []).append(
                        _float(row[k])
                    )
    minutes = sorted(first_seen)
    keys = sorted(cells)
    values = np.full((len(minutes), len(keys)), np.nan)
    where = {m: i for i, m in enumerate(minutes)}
    for j, key in enumerate(keys):
        for minute, got in cells[key].items():
            finite = [v for v in got if np.isfinite(v)]
            if finite:
                values[where[minute], j] = float(np.mean(finite))
    services = {s for s, _ in keys}
    edges: list[tuple[str, str]] = []
    dependency = folder / "dependency.csv"
    if dependency.is_file():
        with dependency.open(newline="") as handle:
            for row in csv.reader(handle):
                known = len(row) >= 2 and row[0] in services and row[1] in services
                if known and row[0] != row[1]:
                    edges.append((row[0], row[1]))
    times = [first_seen[m] for m in minutes]
    return times, [s for s, _ in keys], [m for _, m in keys], values, sorted(set(edges))


def nezha_cases(
    root: Path, *, before: int = 60, after: int = 10, fault_rows: int = FAULT_ROWS
) -> Iterator[Case]:
    """One case per fault of `root`/rca_data/<day>/<day>-fault_list.json (or `root`/<day>/)."""
    base = root / "rca_data" if (root / "rca_data").is_dir() else root
    days = sorted(p.parent for p in base.glob("*/*-fault_list.json"))
    if not days:
        raise InvalidInputError("data", f"no <day>/<day>-fault_list.json under {base}")
    for day in days:
        listing = json.loads((day / f"{day.name}-fault_list.json").read_text())
        faults = sorted(
            (f["inject_time"][:19], _service(f["inject_pod"]), f["inject_type"])
            for group in (listing.values() if isinstance(listing, dict) else [listing])
            for f in group
        )
        times, nodes, metrics, values, edges = _nezha_day(day)
        starts = [int(np.searchsorted(times, t, side="right")) for t, _, _ in faults]
        for i, ((when, root_service, kind), start) in enumerate(zip(faults, starts, strict=True)):
            if not 0 < start < len(times) or root_service not in nodes:
                continue
            lo = max(start - before, 0)
            if i > 0:
                lo = max(lo, min(starts[i - 1] + fault_rows, start - MIN_NORMAL_ROWS))
            hi = min(start + after, len(times))
            if i + 1 < len(starts) and starts[i + 1] > start:
                hi = min(hi, starts[i + 1])
            yield Case(
                name=f"{when} {root_service}",
                kind=kind,
                nodes=nodes,
                metrics=metrics,
                values=values[lo:hi],
                fault_row=start - lo,
                edges=edges,
                members=[],
                root=root_service,
                affected=None,
            )


def _petshop_table(path: Path) -> tuple[FloatArray, list[tuple[str, str]], FloatArray]:
    """(times, (node, metric) per column, values) of a 3-row-header PetShop metrics CSV."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 5 or len(rows[0]) != len(rows[1]) or len(rows[1]) != len(rows[2]):
        raise InvalidInputError("data", f"{path}: expected a node / metric / statistic header")
    columns = []
    for node, metric, stat in zip(rows[0][1:], rows[1][1:], rows[2][1:], strict=True):
        columns.append((node, metric if stat in ("Average", "Sum") else f"{metric}_{stat}"))
    body = [r for r in rows[3:] if r and np.isfinite(_float(r[0]))]
    times = np.array([_float(r[0]) for r in body])
    values = np.array(
        [[_float(c) for c in r[1 : len(columns) + 1]] for r in body], dtype=np.float64
    )
    return times, columns, values.reshape(len(body), len(columns))


def _petshop_graph(path: Path) -> list[tuple[str, str]]:
    """Row calls column, for every non-zero cell of the adjacency matrix."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    targets = rows[0][1:]
    edges = []
    for row in rows[1:]:
        for target, cell in zip(targets, row[1:], strict=False):
            weight = _float(cell)
            if np.isfinite(weight) and weight != 0 and row[0] != target:
                edges.append((row[0], target))
    return edges


def petshop_cases(root: Path, *, slo_hint: bool = False) -> Iterator[Case]:
    """One case per `<scenario>/train/issue_N` under `root` (or `root` itself a scenario)."""
    scenarios = (
        [root] if (root / "train").is_dir() else sorted(p.parent for p in root.glob("*/graph.csv"))
    )
    if not scenarios:
        raise InvalidInputError("data", f"no <scenario>/graph.csv or train/ under {root}")
    for scenario in scenarios:
        graph = scenario / "graph.csv"
        edges = _petshop_graph(graph) if graph.is_file() else []
        baseline = scenario / "noissue" / "metrics.csv"
        normal = _petshop_table(baseline) if baseline.is_file() else None
        issues = sorted(
            (p for p in (scenario / "train").glob("issue_*") if (p / "metrics.csv").is_file()),
            key=lambda p: (len(p.name), p.name),
        )
        for issue in issues:
            target = json.loads((issue / "target.json").read_text())
            times, columns, values = _petshop_table(issue / "metrics.csv")
            stamp = float(target["target"]["timestamp"])
            inside = int(np.searchsorted(times, stamp, side="right")) - 1
            if not 0 < inside < times.shape[0]:
                continue
            search_from = 0
            if normal is not None:
                index = {c: k for k, c in enumerate(normal[1])}
                before = np.full((normal[2].shape[0], len(columns)), np.nan)
                for k, c in enumerate(columns):
                    if c in index:
                        before[:, k] = normal[2][:, index[c]]
                values = np.vstack([before, values])
                search_from = before.shape[0]
            slo_metric = str(target["target"].get("metric", "latency"))
            slo = [
                k
                for k, c in enumerate(columns)
                if c == (str(target["target"].get("node", "PetSite")), slo_metric)
            ]
            yield Case(
                name=f"{scenario.name}/{issue.name}",
                kind=slo_metric,
                nodes=[n for n, _ in columns],
                metrics=[m for _, m in columns],
                values=values,
                fault_row=search_from + inside,
                edges=edges,
                members=[],
                root=str(target["root_cause"]["node"]),
                affected=None,
                search_from=search_from,
                slo=slo if slo_hint and slo else None,
            )
