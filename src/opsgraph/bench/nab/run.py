"""`opsgraph bench nab`: the live detection path over the NAB corpus, scored by NAB's rules.

Every file is a series of one Ingestor built from the `detect` settings, as `serve` builds
it (detector, calibration, knobs, decision step with its rest period): step t feeds row t of
every file that has one, scored before it is learned, so nothing after t is ever seen. A
detection is an anomaly the decision step opens, at the row it opens: what would page.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.bench.nab.corpus import Corpus, DataFile, load_corpus
from opsgraph.bench.nab.scoring import (
    RowWeights,
    file_score,
    normalise,
    null_total,
    perfect_total,
    row_weights,
)
from opsgraph.core.errors import InvalidInputError
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import build_ingestor

METRIC = "value"


@dataclass(slots=True)
class Replay:
    """What the live path produced: per file, the rows where an anomaly opened, and the
    score of every row before the decision step (what a replay of other decision settings
    needs)."""

    alerts: list[npt.NDArray[np.float64]]
    scores: list[npt.NDArray[np.float64]]
    seconds: float


def padded(rows: Sequence[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    """Rows of different lengths as one matrix, NaN after each row's end."""
    out = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def run_live_path(files: Sequence[DataFile], settings: DetectSettings) -> Replay:
    """Feed the files row by row through the configured live path."""
    ingestor = build_ingestor(settings, store=None, persist_samples=False)
    keys = [(f.name, METRIC) for f in files]
    row_of = {f.name: i for i, f in enumerate(files)}
    lengths = np.array([len(f.values) for f in files])
    alerts = [np.zeros(n) for n in lengths]
    scores = [np.zeros(n) for n in lengths]
    width = int(lengths.max())
    values = padded([f.values for f in files])
    stamps = padded([f.ts for f in files])
    everyone = np.arange(len(files))
    start = time.perf_counter()
    for t in range(width):
        live = everyone[lengths > t]
        row_keys = [keys[i] for i in live.tolist()]
        result = ingestor.ingest_columns(row_keys, stamps[live, t], values[live, t])
        idx = ingestor.series_index(row_keys)
        for i, s in zip(live.tolist(), ingestor.latest_score[idx].tolist(), strict=True):
            scores[i][t] = s
        for anomaly in result.opened:
            alerts[row_of[anomaly.resource_id]][t] = 1.0
    return Replay(alerts, scores, time.perf_counter() - start)


def score_files(
    corpus: Corpus, weights: list[RowWeights], alerts: list[npt.NDArray[np.float64]]
) -> dict[str, Any]:
    """Per profile: normalised score, counts and per-category scores of the alerts."""
    report: dict[str, Any] = {}
    for profile, cost in corpus.profiles.items():
        raw = 0.0
        counts = {"tp": 0, "fp": 0, "fn": 0}
        by_category: dict[str, list[float]] = {}
        for f, w, a in zip(corpus.files, weights, alerts, strict=True):
            total, c = file_score(w, a, 0.5, cost)
            raw += total
            for k in counts:
                counts[k] += c[k]
            cat = by_category.setdefault(f.category, [0.0, 0.0, 0.0])
            cat[0] += total
            cat[1] += null_total([w], cost)
            cat[2] += perfect_total([w], cost)
        null, perfect = null_total(weights, cost), perfect_total(weights, cost)
        report[profile] = {
            "score": round(normalise(raw, null, perfect), 2),
            "raw": round(raw, 4),
            **counts,
            "categories": {
                name: round(normalise(r, n, p), 2) if p != n else None
                for name, (r, n, p) in sorted(by_category.items())
            },
        }
    return report


def write_results(
    corpus: Corpus, alerts: list[npt.NDArray[np.float64]], out: Path, name: str
) -> Path:
    """NAB's result layout: <out>/<name>/<category>/<name>_<file>.csv; anomaly_score is 1 at
    the rows where an anomaly opened, so NAB's own scorer sees the same detections."""
    root = out / name
    for f, s in zip(corpus.files, alerts, strict=True):
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


def select_files(corpus: Corpus, only: Sequence[str]) -> Corpus:
    if not only:
        return corpus
    chosen = [f for f in corpus.files if any(part in f.name for part in only)]
    if not chosen:
        raise InvalidInputError("files", f"no NAB file matches {', '.join(only)}")
    return Corpus(chosen, corpus.profiles)


def run_nab(
    data: Path,
    settings: DetectSettings | None = None,
    *,
    out: Path | None = None,
    only: Sequence[str] = (),
    splits: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the live path (default: the live default settings) over the corpus and score its
    alerts; with `splits`, also the held-out protocol (`bench/nab/heldout.py`); `only` limits
    the run to files whose path contains one of the given strings."""
    settings = settings or DetectSettings()
    corpus = select_files(load_corpus(data), only)
    replay = run_live_path(corpus.files, settings)
    weights = [row_weights(f) for f in corpus.files]
    report: dict[str, Any] = {
        "benchmark": "nab",
        "detector": settings.detector,
        "params": settings.params,
        "calibration": settings.calibration,
        "alert_threshold": settings.alert_threshold,
        "open_after_points": settings.open_after_points,
        "rest_points": settings.rest_points,
        "rest_fraction": settings.rest_fraction,
        "files": len(corpus.files),
        "rows": int(sum(len(f.values) for f in corpus.files)),
        "label_windows": int(sum(len(f.windows) for f in corpus.files)),
        "detect_seconds": round(replay.seconds, 2),
        "profiles": score_files(corpus, weights, replay.alerts),
    }
    if splits:
        from opsgraph.bench.nab.heldout import held_out

        report["held_out"] = held_out(corpus, weights, replay, settings, splits=splits, seed=seed)
    if out is not None:
        name = "opsgraph" + settings.detector.replace("_", "").title()
        report["results_dir"] = str(write_results(corpus, replay.alerts, out, name))
    return report
