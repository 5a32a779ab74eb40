"""`opsgraph bench nab`: run a detector causally over the NAB corpus, score it, write results.

All files run at once as series of one streaming detector, row by row: step t feeds row t of
every file that has one, scores it before learning it, so nothing after t is ever seen.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.bench.nab.corpus import Corpus, DataFile, load_corpus
from opsgraph.bench.nab.rest import RestPeriod
from opsgraph.bench.nab.scoring import (
    best_threshold,
    file_score,
    normalise,
    null_total,
    perfect_total,
    row_weights,
)
from opsgraph.core.errors import InvalidInputError
from opsgraph.detect.ensemble import RepeatDamper
from opsgraph.detect.members import DEFAULT_MEMBERS, TAIL_LEVEL, Member, parse_members
from opsgraph.ingest.offline import build_ensemble

#: After a score reaches REST_LEVEL, the series' next REST_ROWS scores are silenced, or
#: REST_FRACTION of the rows it had before the alert when that is more.
REST_ROWS = 35
REST_LEVEL = 0.9999
REST_FRACTION = 0.02

#: Turns a batch of (series index, value) into calibrated scores in [0, 1], learning as it goes.
StreamScorer = Callable[
    [npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]],
    npt.NDArray[np.float64],
]


def stream_scores(files: list[DataFile], scorer: StreamScorer) -> list[npt.NDArray[np.float64]]:
    """Feed every file row by row through the scorer (one series per file)."""
    lengths = np.array([len(f.values) for f in files])
    out = [np.zeros(n) for n in lengths]
    padded = np.full((len(files), int(lengths.max())), np.nan)
    stamps = np.full((len(files), int(lengths.max())), np.nan)
    for i, f in enumerate(files):
        padded[i, : len(f.values)] = f.values
        stamps[i, : len(f.values)] = f.ts
    all_idx = np.arange(len(files), dtype=np.int64)
    for t in range(int(lengths.max())):
        idx = all_idx[lengths > t]
        scores = scorer(idx, padded[idx, t], stamps[idx, t])
        for j, series in enumerate(idx.tolist()):
            out[series][t] = scores[j]
    return [np.nan_to_num(np.clip(s, 0.0, 1.0), nan=0.0) for s in out]


def score_corpus(corpus: Corpus, scores: list[npt.NDArray[np.float64]]) -> dict[str, Any]:
    """Per profile: threshold, normalised score, counts, and per-category scores."""
    weights = [row_weights(f) for f in corpus.files]
    report: dict[str, Any] = {}
    for profile, cost in corpus.profiles.items():
        threshold, raw = best_threshold(weights, scores, cost)
        null, perfect = null_total(weights, cost), perfect_total(weights, cost)
        counts = {"tp": 0, "fp": 0, "fn": 0}
        by_category: dict[str, list[float]] = {}
        for f, w, s in zip(corpus.files, weights, scores, strict=True):
            total, c = file_score(w, s, threshold, cost)
            for k in counts:
                counts[k] += c[k]
            cat = by_category.setdefault(f.category, [0.0, 0.0, 0.0])
            cat[0] += total
            cat[1] += null_total([w], cost)
            cat[2] += perfect_total([w], cost)
        report[profile] = {
            "score": round(normalise(raw, null, perfect), 2),
            "threshold": threshold,
            "raw": round(raw, 4),
            **counts,
            "categories": {
                name: round(normalise(r, n, p), 2) if p != n else None
                for name, (r, n, p) in sorted(by_category.items())
            },
        }
    return report


def write_results(
    corpus: Corpus, scores: list[npt.NDArray[np.float64]], out: Path, detector: str
) -> Path:
    """NAB's result layout: <out>/<detector>/<category>/<detector>_<file>.csv."""
    name = detector.replace("_", "")
    root = out / name
    for f, s in zip(corpus.files, scores, strict=True):
        category, filename = f.name.split("/", 1)
        path = root / category / f"{name}_{filename}"
        path.parent.mkdir(parents=True, exist_ok=True)
        labels = f.labels
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value", "anomaly_score", "label"])
            for k, stamp in enumerate(f.timestamps):
                writer.writerow([stamp, repr(float(f.values[k])), f"{s[k]:.6f}", int(labels[k])])
    return root


def ensemble_scorer(
    members: Sequence[Member],
    n_series: int,
    dedup_rows: int = 0,
    level: float = TAIL_LEVEL,
    rest_rows: int = REST_ROWS,
    rest_level: float = REST_LEVEL,
    rest_fraction: float = REST_FRACTION,
) -> StreamScorer:
    """Each member detector (at its window) calibrated per series, max-combined; then repeats
    of a recent high damped (dedup_rows 0 turns that off) and a rest period after each score
    at rest_level or above: rest_rows, or rest_fraction of the rows seen before the alert
    when that is more (rest_rows 0 turns it off)."""
    ensemble = build_ensemble(list(members), level=level)
    ensemble.reserve(n_series)
    damper = RepeatDamper(rows=dedup_rows) if dedup_rows > 0 else None
    if damper is not None:
        damper.reserve(n_series)
    rest = None
    if rest_rows > 0:
        rest = RestPeriod(rows=rest_rows, level=rest_level, fraction=rest_fraction)
        rest.reserve(n_series)

    def scorer(
        idx: npt.NDArray[np.int64], values: npt.NDArray[np.float64], ts: npt.NDArray[np.float64]
    ) -> Any:
        probability, _ = ensemble.step(idx, values, ts)
        if damper is not None:
            probability = damper(idx, probability)
        return rest(idx, probability) if rest is not None else probability

    return scorer


def run_nab(
    data: Path,
    *,
    members: str = DEFAULT_MEMBERS,
    dedup_rows: int = 0,
    level: float = TAIL_LEVEL,
    rest_rows: int = REST_ROWS,
    rest_level: float = REST_LEVEL,
    rest_fraction: float = REST_FRACTION,
    out: Path | None = None,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """Run, score and (with `out`) write NAB's result files; `only` limits the run to files
    whose relative path contains one of the given strings (scores then cover those files)."""
    corpus = load_corpus(data)
    if only:
        chosen = [f for f in corpus.files if any(part in f.name for part in only)]
        if not chosen:
            raise InvalidInputError("files", f"no NAB file matches {', '.join(only)}")
        corpus = Corpus(chosen, corpus.profiles)
    parsed = parse_members(members)
    scorer = ensemble_scorer(
        parsed, len(corpus.files), dedup_rows, level, rest_rows, rest_level, rest_fraction
    )
    start = time.perf_counter()
    scores = stream_scores(corpus.files, scorer)
    seconds = time.perf_counter() - start
    report: dict[str, Any] = {
        "benchmark": "nab",
        "detector": members,
        "dedup_rows": dedup_rows,
        "tail_level": level,
        "rest_rows": rest_rows,
        "rest_level": rest_level,
        "rest_fraction": rest_fraction,
        "files": len(corpus.files),
        "rows": int(sum(len(f.values) for f in corpus.files)),
        "label_windows": int(sum(len(f.windows) for f in corpus.files)),
        "detect_seconds": round(seconds, 2),
        "profiles": score_corpus(corpus, scores),
    }
    if out is not None:
        name = "opsgraph" + parsed[0][0].replace("_", "").title()
        report["results_dir"] = str(write_results(corpus, scores, out, name))
    return report
