"""Multivariate detectors fitted on history: Isolation Forest, One-Class SVM, LOF (scikit-learn)
and ECOD (ours, causal), over a resource's signals and their first differences.

Batch contract: `fit(X)` on normal history (rows x signals, NaN allowed), then `score(X)` gives
a raw score per row. `MultivariateEnsemble` calibrates each member against the distribution of
its own scores on the training rows (empirical, with an exponential tail) and combines them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from opsgraph.detect.base import FloatArray

#: Models by name; LOF and OCSVM are quadratic in rows, so they fit on a sample.
_MODELS = ("iforest", "ocsvm", "lof", "ecod")
_SAMPLED = {"ocsvm", "lof"}


class BatchDetector(Protocol):
    name: str

    def fit(self, X: FloatArray) -> None: ...

    def score(self, X: FloatArray) -> FloatArray: ...


def window_features(X: FloatArray) -> FloatArray:
    """The signals and their change since the previous row (0 for the first row)."""
    diff = np.zeros_like(X)
    diff[1:] = X[1:] - X[:-1]
    return np.hstack([X, diff])


class RobustScaler:
    """Robust scaling fitted on history: (x - median) / IQR; NaN becomes the median (0)."""

    def fit(self, X: FloatArray) -> RobustScaler:
        with np.errstate(all="ignore"):
            finite = np.where(np.isfinite(X), X, np.nan)
            self.median = np.nan_to_num(np.nanmedian(finite, axis=0), nan=0.0) if len(X) else 0.0
            q75, q25 = (
                np.nan_to_num(np.nanpercentile(finite, q, axis=0), nan=0.0) for q in (75, 25)
            )
        spread = q75 - q25
        std = np.nan_to_num(np.nanstd(finite, axis=0), nan=0.0) if len(X) else 1.0
        self.scale = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
        return self

    def transform(self, X: FloatArray) -> FloatArray:
        Z = (X - self.median) / self.scale
        return np.clip(np.nan_to_num(Z, nan=0.0, posinf=1e6, neginf=-1e6), -1e6, 1e6)


class _Ecod:
    """ECOD (Li et al., TKDE 2022) on the training rows' distributions only.

    PyOD's ECOD recomputes its empirical distributions on training and scored rows together,
    so a row's score would depend on the other rows scored with it (look-ahead); here each
    row's tails come from the training rows alone, extended past the training range.
    """

    def fit(self, Z: FloatArray) -> None:
        self._sorted = np.sort(Z, axis=0)
        n = Z.shape[0]
        mean = Z.mean(axis=0)
        sd = Z.std(axis=0)
        skew = np.where(sd > 0, ((Z - mean) ** 3).mean(axis=0) / np.maximum(sd, 1e-12) ** 3, 0.0)
        self._left_skewed = skew < 0
        self._n = n
        q75, q25 = np.percentile(Z, [75, 25], axis=0)
        self._spread = np.where(q75 - q25 > 0, q75 - q25, np.maximum(sd, 1e-6))

    def decision_function(self, Z: FloatArray) -> FloatArray:
        n = self._n
        cols = range(Z.shape[1])
        below = np.column_stack(
            [np.searchsorted(self._sorted[:, j], Z[:, j], side="right") for j in cols]
        )
        above = np.column_stack(
            [n - np.searchsorted(self._sorted[:, j], Z[:, j], side="left") for j in cols]
        )
        # Tail probabilities with a floor of 1 / (n + 1); past the training range the surprise
        # keeps growing with the distance (in IQRs), so far beats barely out of range.
        beyond_low = np.maximum(self._sorted[0] - Z, 0.0) / self._spread
        beyond_high = np.maximum(Z - self._sorted[-1], 0.0) / self._spread
        left = -np.log((below + 1.0) / (n + 1.0)) + beyond_low
        right = -np.log((above + 1.0) / (n + 1.0)) + beyond_high
        auto = np.where(self._left_skewed, left, right)
        return np.asarray(
            np.maximum.reduce([left.sum(axis=1), right.sum(axis=1), auto.sum(axis=1)])
        )


class TabularDetector:
    """One outlier model over robust-scaled signals and their first differences. Raw scores
    grow with outlyingness (scikit-learn's scores negated)."""

    def __init__(self, model: str = "ecod", max_train: int = 5000, seed: int = 0) -> None:
        if model not in _MODELS:
            raise ValueError(f"model must be one of {', '.join(_MODELS)}")
        self.name = model
        self.max_train = max_train
        self.seed = seed
        self._model: Any = None
        self._scaler = RobustScaler()

    def _new_model(self) -> Any:
        # The settings PyOD used to wrap these with (opsgraph dropped PyOD: it only wrapped
        # them and pulled numba), so scores and figures stay the same.
        if self.name == "iforest":
            from sklearn.ensemble import IsolationForest

            return _Negated(IsolationForest(n_estimators=200, random_state=self.seed), "score")
        if self.name == "ocsvm":
            from sklearn.svm import OneClassSVM

            return _Negated(OneClassSVM(kernel="rbf", nu=0.5, gamma="auto"), "decision")
        if self.name == "lof":
            from sklearn.neighbors import LocalOutlierFactor

            return _Negated(LocalOutlierFactor(n_neighbors=35, novelty=True), "score")
        return _Ecod()

    def fit(self, X: FloatArray) -> None:
        if X.ndim != 2 or X.shape[0] < 10:
            raise ValueError("fit needs at least 10 rows of signals")
        F = window_features(X)
        self._scaler.fit(F)
        Z = self._scaler.transform(F)
        if self.name in _SAMPLED and Z.shape[0] > self.max_train:
            rng = np.random.default_rng(self.seed)
            Z = Z[np.sort(rng.choice(Z.shape[0], size=self.max_train, replace=False))]
        self._model = self._new_model()
        self._model.fit(Z)

    def score(self, X: FloatArray) -> FloatArray:
        if self._model is None:
            raise RuntimeError("fit the detector first")
        Z = self._scaler.transform(window_features(X))
        return np.asarray(self._model.decision_function(Z), dtype=np.float64)


class _Negated:
    """A scikit-learn model whose normality score (higher = more normal) is negated into an
    outlier score, the convention of every batch detector here."""

    def __init__(self, model: Any, method: str) -> None:
        self.model = model
        self.method = method

    def fit(self, Z: FloatArray) -> None:
        self.model.fit(Z)

    def decision_function(self, Z: FloatArray) -> FloatArray:
        if self.method == "score":
            return -np.asarray(self.model.score_samples(Z), dtype=np.float64)
        return -np.asarray(self.model.decision_function(Z), dtype=np.float64)


class _StaticTail:
    """Probability that a raw score is anomalous, from the scores of the training rows."""

    def __init__(self, level: float = 0.99) -> None:
        self.level = level

    def fit(self, raw: FloatArray) -> _StaticTail:
        self.sorted = np.sort(raw[np.isfinite(raw)])
        n = self.sorted.shape[0]
        self.q = float(np.quantile(self.sorted, self.level)) if n else 0.0
        above = self.sorted[self.sorted > self.q] - self.q
        spread = float(self.sorted[-1] - self.sorted[0]) if n else 1.0
        self.mean_excess = float(above.mean()) if above.size else max(1e-6 * spread, 1e-12)
        return self

    def probability(self, raw: FloatArray) -> FloatArray:
        n = max(self.sorted.shape[0], 1)
        rank = np.searchsorted(self.sorted, raw, side="left") / n
        tail = (1.0 - self.level) * np.exp(-(raw - self.q) / self.mean_excess)
        p_exceed = np.where(raw > self.q, tail, np.maximum(1.0 - rank, 1.0 - self.level))
        return np.nan_to_num(1.0 - p_exceed, nan=0.0)


class MultivariateEnsemble:
    """Members fitted on the same history, each calibrated on its own training scores."""

    def __init__(self, members: Sequence[str] = ("ecod", "iforest"), seed: int = 0) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        from opsgraph.models.plugins import create_batch_detector

        self.members = [create_batch_detector(m, {"seed": seed}) for m in members]
        self._tails: list[_StaticTail] = []

    def fit(self, X: FloatArray) -> None:
        self._tails = []
        self._scaler = RobustScaler().fit(window_features(X))
        for member in self.members:
            member.fit(X)
            self._tails.append(_StaticTail().fit(member.score(X)))

    def drift_notes(self, X: FloatArray) -> list[str]:
        """For members that monitor drift (the autoencoders): their verdict on these rows."""
        notes = []
        for member in self.members:
            drift = getattr(member, "drift", None)
            if callable(drift):
                notes.append(f"{member.name}: {drift(X).describe()}")
        return notes

    def attribution(self, X: FloatArray) -> FloatArray:
        """Per row and signal: each signal's share of what makes the row unusual, averaged over
        the members that attribute (the PCA residual, the autoencoders); without such a
        member, the share of each signal's robust deviation from the training rows (its level
        and its change)."""
        shares = []
        for member in self.members:
            attribute = getattr(member, "attribution", None)
            if callable(attribute):
                shares.append(_shares(np.abs(np.asarray(attribute(X), dtype=np.float64))))
        if shares:
            return np.asarray(np.mean(shares, axis=0), dtype=np.float64)
        Z = self._scaler.transform(window_features(X)) ** 2
        d = Z.shape[1] // 2
        return _shares(Z[:, :d] + Z[:, d:])

    def score(self, X: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per row: the ensemble probability (largest member's) and each member's [rows, m]."""
        per_member = np.column_stack(
            [
                tail.probability(m.score(X))
                for m, tail in zip(self.members, self._tails, strict=True)
            ]
        )
        return per_member.max(axis=1), per_member


def _shares(weights: FloatArray) -> FloatArray:
    weights = np.nan_to_num(weights, nan=0.0, posinf=0.0)
    total = weights.sum(axis=1, keepdims=True)
    return np.asarray(weights / np.where(total > 0, total, 1.0), dtype=np.float64)


# Factories registered under the `opsgraph.batch_detectors` entry-point group.
def iforest(**params: Any) -> TabularDetector:
    return TabularDetector("iforest", **params)


def ocsvm(**params: Any) -> TabularDetector:
    return TabularDetector("ocsvm", **params)


def lof(**params: Any) -> TabularDetector:
    return TabularDetector("lof", **params)


def ecod(**params: Any) -> TabularDetector:
    return TabularDetector("ecod", **params)
