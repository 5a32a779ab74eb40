"""BARO (Pham, Ha and Zhang, FSE 2024: "BARO: Robust Root Cause Analysis for Microservices via
Multivariate Bayesian Online Change Point Detection"), written here from the paper's description
as a baseline of `opsgraph bench rca`.

1. Onset: Bayesian online change-point detection (Adams and MacKay, 2007) over all the metrics,
   each min-max normalised over the window (gaps carried forward, then 0), with a constant hazard
   of 1/`HAZARD_LAMBDA`. The observation model is multivariate with a *diagonal* covariance: each
   metric has its own Normal-Gamma prior (mean 0, kappa 1, alpha 1, beta 1/2, the per-dimension
   terms of BARO's Normal-Wishart prior with an identity scale) and the predictive density of a
   row is the product of the metrics' Student-t densities. A full Normal-Wishart model costs a
   d x d determinant per run length and row (the Nezha windows have 736 metrics), so the
   correlations between metrics are left out. As in BARO, the onset is read from the posterior
   probability that the run length equals `WINDOW` rows: the first row t >= 1 where
   P(run length = WINDOW at row t + WINDOW) > `THRESHOLD` (else the most likely such row). For
   windows too short for that (PetShop's five rows), the run length looked at is shortened to
   half the rows.
2. Ranking (RobustScorer): each metric's largest (x - median(normal)) / IQR(normal) over the
   rows from the onset on, the normal being the rows before it (an IQR of zero counts as 1, as
   scikit-learn's RobustScaler does); a node scores its best metric. As in the authors' own
   benchmark (RCAEval), memory metrics (`mem`, `*_mem`) are read in MB rather than bytes, and
   the score is the largest rise above the median (signed): that reproduces their published
   Sock Shop accuracy (0.96). `baro_abs` is the same with |x - median|, as the method is often
   described; it is reported beside it.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import gammaln

from opsgraph.bench.rca_case import Case, Ranked
from opsgraph.explain.evidence import FloatArray

HAZARD_LAMBDA = 50.0
WINDOW = 10
THRESHOLD = 0.01


def _normalised(values: FloatArray) -> FloatArray:
    """Min-max per column over the window; gaps carried forward, then 0; constant columns 0."""
    x = np.array(values, dtype=np.float64, copy=True)
    for j in np.flatnonzero(~np.isfinite(x).all(axis=0)).tolist():
        col = x[:, j]
        ok = np.isfinite(col)
        idx = np.maximum.accumulate(np.where(ok, np.arange(col.shape[0]), -1))
        x[:, j] = np.where(idx >= 0, col[np.maximum(idx, 0)], np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        span = high - low
        x = np.where(span > 0, (x - low) / np.where(span > 0, span, 1.0), 0.0)
    return np.nan_to_num(x, nan=0.0)


def run_length_posterior(x: FloatArray, hazard: float = 1.0 / HAZARD_LAMBDA) -> FloatArray:
    """R[r, t]: the probability that, after rows 0..t-1 of `x` [rows, dims], the current run
    has lasted r rows (R[0, 0] = 1)."""
    rows, dims = x.shape
    log_r = np.full((rows + 1, rows + 1), -np.inf)
    log_r[0, 0] = 0.0
    mu0, kappa0, alpha0, beta0 = 0.0, 1.0, 1.0, 0.5
    mu = np.full((1, dims), mu0)
    kappa = np.full((1, 1), kappa0)
    alpha = np.full((1, 1), alpha0)
    beta = np.full((1, dims), beta0)
    log_h, log_1h = np.log(hazard), np.log1p(-hazard)
    for t in range(rows):
        obs = x[t]
        # Student-t predictive of each run length, per dimension, summed in log space.
        df = 2.0 * alpha
        scale2 = beta * (kappa + 1.0) / (alpha * kappa)
        dev = (obs - mu) ** 2 / (df * scale2)
        log_pred = (
            gammaln((df + 1.0) / 2.0)
            - gammaln(df / 2.0)
            - 0.5 * np.log(np.pi * df * scale2)
            - (df + 1.0) / 2.0 * np.log1p(dev)
        ).sum(axis=1)
        prior = log_r[: t + 1, t] + log_pred
        grow = prior + log_1h
        change = np.logaddexp.reduce(prior + log_h)
        column = np.concatenate([[change], grow])
        log_r[: t + 2, t + 1] = column - np.logaddexp.reduce(column)
        # Posterior parameters: a fresh run (the prior) first, then every run grown by `obs`.
        new_mu = (kappa * mu + obs) / (kappa + 1.0)
        new_beta = beta + kappa * (obs - mu) ** 2 / (2.0 * (kappa + 1.0))
        mu = np.vstack([np.full((1, dims), mu0), new_mu])
        beta = np.vstack([np.full((1, dims), beta0), new_beta])
        kappa = np.vstack([[[kappa0]], kappa + 1.0])
        alpha = np.vstack([[[alpha0]], alpha + 0.5])
    return np.exp(log_r)


def bocpd_onset(values: FloatArray, start: int = 0) -> int:
    """BARO's onset of `values` [rows, columns], searched from row `start` on (rows before it
    are another recording); at least start + 1."""
    x = _normalised(values[start:])
    rows = x.shape[0]
    if rows < 2:
        return int(min(start + 1, values.shape[0] - 1))
    window = max(1, min(WINDOW, (rows - 1) // 2))
    posterior = run_length_posterior(x)
    prob = posterior[window, window:rows]  # prob[i]: a run of `window` rows began at row i
    for i in range(1, prob.shape[0]):
        if prob[i] > THRESHOLD:
            return start + i
    head = 5 if prob.shape[0] > 5 else 1
    if prob.shape[0] > head:
        return start + head + int(np.argmax(prob[head:]))
    return start + 1


def robust_scorer(case: Case, onset: int, *, absolute: bool = False) -> Ranked:
    """BARO's ranking: each node's best metric by max (x - median) / IQR after the onset
    (|x - median| with `absolute`)."""
    values = case.values
    memory = [k for k, m in enumerate(case.metrics) if m == "mem" or m.endswith("_mem")]
    if memory:
        values = values.copy()
        values[:, memory] /= 1e6
    normal, after = values[:onset], values[onset:]
    best: dict[str, float] = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q25, q50, q75 = np.nanpercentile(normal, [25, 50, 75], axis=0)
        iqr = q75 - q25
        iqr = np.where(np.isfinite(iqr) & (iqr > 0), iqr, 1.0)
        rise = (after - q50) / iqr
        score = np.nanmax(np.abs(rise) if absolute else rise, axis=0)
    score = np.nan_to_num(score, nan=-np.inf, posinf=0.0)
    for node, s in zip(case.nodes, score.tolist(), strict=True):
        best[node] = max(best.get(node, -np.inf), s)
    return Ranked(sorted(set(case.nodes), key=lambda v: (-best[v], v)))


def baro_ranker(case: Case) -> Ranked:
    """BARO end to end: its own onset, then RobustScorer."""
    return robust_scorer(case, bocpd_onset(case.values, case.search_from))


def baro_abs_ranker(case: Case) -> Ranked:
    """BARO with |x - median| in RobustScorer."""
    return robust_scorer(case, bocpd_onset(case.values, case.search_from), absolute=True)
