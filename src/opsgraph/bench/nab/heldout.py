"""NAB held out: how much of the figure is the fit of the decision settings to the corpus.

The detector's scores do not depend on the decision step (the detector learns every point
either way), so the live run's scores are replayed through the product's EpisodeTracker for
each decision setting of a grid (alert threshold x rest points x rest fraction). Each split
draws half of the files at random, chooses the setting with the best standard score on that
half, and scores the other half with it; beside it, the live default on the same half. The
spread over splits says how far a figure tuned on the whole corpus transfers.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.bench.nab.corpus import Corpus
from opsgraph.bench.nab.run import METRIC, Replay, padded
from opsgraph.bench.nab.scoring import RowWeights, file_score, null_total, perfect_total
from opsgraph.detect.decision import EpisodeTracker
from opsgraph.detect.settings import DetectSettings

#: The decision settings a split may choose from: 4 x 4 x 3 = 48, the live default among them.
THRESHOLDS = (0.35, 0.4, 0.45, 0.5)
REST_POINTS = (0, 20, 35, 50)
REST_FRACTIONS = (0.0, 0.02, 0.04)


def replay_alerts(
    replay: Replay, corpus: Corpus, settings: DetectSettings, grid: tuple[float, int, float]
) -> list[npt.NDArray[np.float64]]:
    """The rows where the product's decision step opens anomalies, at another setting."""
    threshold, rest_points, rest_fraction = grid
    tracker = EpisodeTracker(
        threshold=threshold,
        close_after=settings.close_after_steps,
        open_after=settings.open_after_points,
        rest_points=rest_points,
        rest_fraction=rest_fraction,
        rest_break=settings.rest_break,
        detector=settings.detector,
    )
    files = corpus.files
    tracker.reserve(len(files))
    keys = [(f.name, METRIC) for f in files]
    row_of = {f.name: i for i, f in enumerate(files)}
    lengths = np.array([len(s) for s in replay.scores])
    width = int(lengths.max())
    scores = padded(replay.scores)
    alerts = [np.zeros(n) for n in lengths]
    everyone = np.arange(len(files), dtype=np.int64)
    for t in range(width):
        idx = everyone[lengths > t]
        row = scores[idx, t]
        decided = tracker.decide(
            ts=np.full(idx.shape[0], float(t)),
            idx=idx,
            values=row,
            expected=row,
            scores=row,
            keys=keys,
        )
        for anomaly in decided.opened:
            alerts[row_of[anomaly.resource_id]][t] = 1.0
    return alerts


def held_out(
    corpus: Corpus,
    weights: list[RowWeights],
    replay: Replay,
    settings: DetectSettings,
    *,
    splits: int,
    seed: int,
) -> dict[str, Any]:
    cost = corpus.profiles["standard"]
    grid = list(itertools.product(THRESHOLDS, REST_POINTS, REST_FRACTIONS))
    live = (settings.alert_threshold, settings.rest_points, settings.rest_fraction)
    if live not in grid:
        grid.append(live)
    # Per setting and file: the raw standard total; null and perfect are per file too.
    totals = np.array(
        [
            [file_score(w, a, 0.5, cost)[0] for w, a in zip(weights, alerts, strict=True)]
            for alerts in (replay_alerts(replay, corpus, settings, g) for g in grid)
        ]
    )
    null = np.array([null_total([w], cost) for w in weights])
    perfect = np.array([perfect_total([w], cost) for w in weights])

    def score(setting: int, files: list[int]) -> float:
        raw = totals[setting, files].sum()
        lo, hi = null[files].sum(), perfect[files].sum()
        return float(100.0 * (raw - lo) / (hi - lo))

    rng = random.Random(seed)
    n = len(corpus.files)
    live_k = grid.index(live)
    runs = []
    for _ in range(splits):
        tune = sorted(rng.sample(range(n), n // 2))
        test = [i for i in range(n) if i not in set(tune)]
        chosen = max(range(len(grid)), key=lambda k: score(k, tune))
        runs.append(
            {
                "chosen": dict(
                    zip(("threshold", "rest_points", "rest_fraction"), grid[chosen], strict=True)
                ),
                "tuned_half": round(score(chosen, tune), 2),
                "held_out_half": round(score(chosen, test), 2),
                "live_default_on_held_out_half": round(score(live_k, test), 2),
            }
        )
    held = np.array([r["held_out_half"] for r in runs])
    default = np.array([r["live_default_on_held_out_half"] for r in runs])
    return {
        "profile": "standard",
        "splits": splits,
        "seed": seed,
        "settings_tried": len(grid),
        "grid": {
            "alert_threshold": list(THRESHOLDS),
            "rest_points": list(REST_POINTS),
            "rest_fraction": list(REST_FRACTIONS),
        },
        "all_files_live_default": round(score(live_k, list(range(n))), 2),
        "held_out_mean": round(float(held.mean()), 2),
        "held_out_std": round(float(held.std(ddof=1)), 2) if splits > 1 else 0.0,
        "live_default_on_same_halves_mean": round(float(default.mean()), 2),
        "gap_mean": round(float((default - held).mean()), 2),
        "runs": runs,
    }
