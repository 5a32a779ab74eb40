"""`opsgraph bench multivariate --data DIR`: multivariate detection on ASD, real server metrics.

ASD (InterFusion, KDD 2021): 12 application servers, 19 metrics each, a 30-day training part
and a 15-day labelled test part per server (../shared/data/multivariate/README.md). Every
approach is fitted on the training part and scores every test row; the grade is VUS-PR per
server (`bench/vus.py`, TSB-AD's definition and window), macro-averaged. Beside the
`detect score --train` default, the same run scores the floors the data's README asks for:
uniform random scores and a PCA residual. Attribution is graded on the labelled dimensions of
each segment (`interpretation_label`): the share of an approach's top-3 signals (summed over
the segment's rows) that are labelled, beside the share a random pick would reach.

Nothing here is tuned on ASD: every approach runs with its defaults.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph import __version__
from opsgraph.bench.vus import period_window, vus_pr
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.table import Table
from opsgraph.ingest.offline import score_table

FloatArray = npt.NDArray[np.float64]
#: (scores per test row, attribution per test row and signal or None)
Scored = tuple[FloatArray, FloatArray | None]
Approach = Callable[[FloatArray, FloatArray], Scored]


@dataclass(slots=True)
class Server:
    name: str
    train: FloatArray
    test: FloatArray
    labels: npt.NDArray[np.int8]
    #: (first row, last row, 0-based dimensions) of each interpreted segment
    segments: list[tuple[int, int, list[int]]]


def load_servers(data: Path, only: Sequence[str] | None = None) -> list[Server]:
    """The servers of an ASD (OmniAnomaly-layout) folder, by name order (omi-1, omi-2, ...)."""
    train_dir = data / "train"
    if not train_dir.is_dir():
        raise InvalidInputError("data", f"{data} has no train/ folder (the ASD layout)")
    names = sorted((p.stem for p in train_dir.glob("*.txt")), key=_natural)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise InvalidInputError("server", f"no server {', '.join(unknown)} in {data}")
        names = [n for n in names if n in set(only)]
    if not names:
        raise InvalidInputError("data", f"no servers in {train_dir}")
    servers = []
    for name in names:
        train = np.loadtxt(train_dir / f"{name}.txt", delimiter=",", ndmin=2)
        test = np.loadtxt(data / "test" / f"{name}.txt", delimiter=",", ndmin=2)
        labels = np.loadtxt(data / "test_label" / f"{name}.txt", ndmin=1).astype(np.int8)
        if test.shape[0] != labels.shape[0] or train.shape[1] != test.shape[1]:
            raise InvalidInputError("data", f"{name}: test rows, labels or columns disagree")
        servers.append(Server(name, train, test, labels, _interpretation(data, name)))
    return servers


def _natural(name: str) -> tuple[str, int]:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, 0)


def _interpretation(data: Path, name: str) -> list[tuple[int, int, list[int]]]:
    path = data / "interpretation_label" / f"{name}.txt"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        if ":" not in line:
            continue
        span, dims = line.split(":", 1)
        first, last = (int(x) for x in span.split("-"))
        out.append((first, last, [int(d) - 1 for d in dims.split(",") if d.strip()]))
    return out


def detect_score_default(train: FloatArray, test: FloatArray) -> Scored:
    """What `opsgraph detect score --data test.csv --train train.csv` computes (defaults)."""
    columns = [f"m{j + 1}" for j in range(train.shape[1])]
    scored = score_table(Table(columns, test, None, []), Table(columns, train, None, []))
    return scored.scores, scored.per_signal


def pca_residual(train: FloatArray, test: FloatArray) -> Scored:
    """The floor of the data's README: PCA fitted on train keeping 95 % of the variance; each
    test row scores the norm of its residual, each signal divided by its train residual's
    standard deviation."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=0.95, svd_solver="full").fit(train)

    def residual(X: FloatArray) -> FloatArray:
        return np.asarray(X - pca.inverse_transform(pca.transform(X)), dtype=np.float64)

    scale = residual(train).std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = np.abs(residual(test) / scale)
    return np.asarray(np.sqrt((z**2).sum(axis=1)), dtype=np.float64), z


def uniform_random(train: FloatArray, test: FloatArray) -> Scored:
    rng = np.random.default_rng(0)
    scores: FloatArray = rng.random((test.shape[0],))
    attribution: FloatArray = rng.random(test.shape)
    return scores, attribution


APPROACHES: dict[str, Approach] = {
    "random (uniform)": uniform_random,
    "PCA residual": pca_residual,
    "detect score --train (default)": detect_score_default,
}


def top3_precision(attribution: FloatArray, segments: list[tuple[int, int, list[int]]]) -> float:
    """Mean share, over segments, of the three signals with the most attribution that are
    among the segment's labelled dimensions."""
    shares = []
    for first, last, dims in segments:
        if not dims or last >= attribution.shape[0]:
            continue
        weight = np.nan_to_num(attribution[first : last + 1]).sum(axis=0)
        top = np.argsort(-weight, kind="stable")[:3]
        shares.append(len(set(top.tolist()) & set(dims)) / 3)
    return float(np.mean(shares)) if shares else float("nan")


def run_asd_bench(
    data: Path,
    *,
    servers: Sequence[str] | None = None,
    approaches: Sequence[str] | None = None,
) -> dict[str, Any]:
    """VUS-PR per server and macro, top-3 attribution precision and seconds per server, for
    every approach (or the named ones), in one run."""
    chosen = list(approaches or APPROACHES)
    unknown = [a for a in chosen if a not in APPROACHES]
    if unknown:
        raise InvalidInputError("approach", f"unknown {unknown} (one of {list(APPROACHES)})")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    random_pick: list[float] = []
    for server in load_servers(data, servers):
        window = period_window(server.test[:, 0])
        d = server.train.shape[1]
        random_pick += [min(len(dims), d) / d for _, _, dims in server.segments if dims]
        for name in chosen:
            approach = APPROACHES[name]
            t0 = time.perf_counter()
            scores, attribution = approach(server.train, server.test)
            seconds = time.perf_counter() - t0
            rows.append(
                {
                    "server": server.name,
                    "approach": name,
                    "window": window,
                    "vus_pr": round(vus_pr(scores, server.labels, window), 4),
                    "top3_precision": round(top3_precision(attribution, server.segments), 4)
                    if attribution is not None
                    else None,
                    "seconds": round(seconds, 2),
                }
            )
    summary = []
    for name in chosen:
        mine = [r for r in rows if r["approach"] == name]
        tops = [r["top3_precision"] for r in mine if r["top3_precision"] is not None]
        summary.append(
            {
                "approach": name,
                "vus_pr": round(float(np.nanmean([r["vus_pr"] for r in mine])), 4),
                "top3_precision": round(float(np.nanmean(tops)), 4) if tops else None,
                "seconds_per_server": round(float(np.mean([r["seconds"] for r in mine])), 2),
            }
        )
    return {
        "benchmark": "multivariate-asd",
        "opsgraph": __version__,
        "data": str(data),
        "servers": len({r["server"] for r in rows}),
        "protocol": "fit on train/, score test/; VUS-PR per server (TSB-AD definition, window "
        "from the first signal's period), macro mean; nothing tuned on ASD",
        "top3_random_pick": round(float(np.mean(random_pick)), 4) if random_pick else None,
        "seconds": round(time.perf_counter() - started, 1),
        "results": summary,
        "per_server": rows,
    }
