"""The multivariate resource model served by `/predict` and `/batch_predict`: one sample of a
resource's signals -> calibrated anomaly score, verdict and which signals drove it.

Members are the registered batch detectors (Isolation Forest, One-Class SVM, LOF, ECOD, the
autoencoder), fitted on the recorded history of many resources. Versions live in the shared
model registry under the family "multivariate" (<root>/multivariate/vNNNN/model.pkl).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from math import factorial
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import METRIC_NAME_RE
from opsgraph.detect.base import FloatArray
from opsgraph.models.multivariate import BatchDetector, RobustScaler
from opsgraph.models.plugins import create_batch_detector
from opsgraph.models.registry import ModelInfo
from opsgraph.models.registry import ModelRegistry as VersionedRegistry

#: What `--detector` accepts; "ensemble" is the Isolation Forest / One-Class SVM / LOF trio.
DETECTORS = ("ensemble", "iforest", "ocsvm", "lof", "ecod", "autoencoder")
ENSEMBLE = ("iforest", "ocsvm", "lof")
#: LOF looks at 35 neighbours, and a tail needs more than a handful of rows.
MIN_ROWS = 100
#: The tail of the training scores beyond which a sample starts to look anomalous.
TAIL_LEVEL = 0.99
DEFAULT_THRESHOLD = 0.35
#: Exact Shapley values score 2**features coalitions per flagged row.
MAX_SHAPLEY_FEATURES = 8
#: Rows explained by Shapley values per call (the highest-scoring); the others by deviation.
MAX_SHAPLEY_ROWS = 256
SHAPLEY_ROWS = 1 << 16


def steady(X: FloatArray) -> FloatArray:
    """Each row twice in a row: the members see a row's change since the previous one, and a
    sample sent alone has none, so its second copy (change 0) is the one scored. This also keeps
    a row's score independent of the other rows of a batch."""
    return np.repeat(X, 2, axis=0)


class _Tail:
    """Calibration of one member: 0 up to the TAIL_LEVEL quantile of its scores on healthy
    rows, then 1 - exp(-excess / mean excess), the same shape as the live robust z-score."""

    def fit(self, raw: FloatArray) -> _Tail:
        finite = raw[np.isfinite(raw)]
        self.q = float(np.quantile(finite, TAIL_LEVEL)) if finite.size else 0.0
        above = finite[finite > self.q] - self.q
        spread = float(finite.max() - finite.min()) if finite.size else 1.0
        self.mean_excess = float(above.mean()) if above.size else max(1e-6 * spread, 1e-12)
        return self

    def excess(self, raw: FloatArray) -> FloatArray:
        """Distance past the quantile in mean excesses (negative inside the healthy range)."""
        return np.nan_to_num((raw - self.q) / self.mean_excess, nan=0.0, posinf=1e6, neginf=-1e6)

    @staticmethod
    def score(excess: FloatArray) -> FloatArray:
        return np.asarray(1.0 - np.exp(-np.maximum(excess, 0.0)))


class ResourceModel:
    """Calibrated multivariate model over named features (the five signals by default)."""

    def __init__(
        self,
        detector: str = "ensemble",
        *,
        threshold: float = DEFAULT_THRESHOLD,
        seed: int = 0,
    ) -> None:
        if detector not in DETECTORS:
            raise InvalidInputError("detector", f"must be one of {', '.join(DETECTORS)}")
        if not 0.0 < threshold <= 1.0:
            raise InvalidInputError("threshold", "must be in (0, 1]")
        self.detector = detector
        self.threshold = float(threshold)
        self.seed = seed
        self.member_names = list(ENSEMBLE if detector == "ensemble" else (detector,))
        self.features: list[str] = []
        self._members: list[BatchDetector] = []
        self._tails: list[_Tail] = []
        self._centre = RobustScaler()

    @property
    def fitted(self) -> bool:
        return bool(self._members)

    def params(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "members": self.member_names,
            "threshold": self.threshold,
            "tail_level": TAIL_LEVEL,
            "seed": self.seed,
        }

    def fit(self, X: FloatArray, features: Sequence[str]) -> ResourceModel:
        """Learn from healthy history: rows of `features`, each resource's rows in time order
        (so the members also learn how signals change from one sample to the next)."""
        if X.ndim != 2 or X.shape[1] != len(features) or not features:
            raise InvalidInputError("data", "needs one column per feature")
        bad = [f for f in features if not METRIC_NAME_RE.match(f)]
        if bad:
            raise InvalidInputError("features", f"{bad[0]!r} is not a valid metric name")
        if len(set(features)) != len(features):
            raise InvalidInputError("features", "names a feature twice")
        if X.shape[0] < MIN_ROWS:
            raise InvalidInputError(
                "data", f"{X.shape[0]} complete rows; training needs at least {MIN_ROWS}"
            )
        members = [create_batch_detector(m, {"seed": self.seed}) for m in self.member_names]
        tails = []
        paired = steady(X)
        for member in members:
            member.fit(X)
            # Calibrated on the healthy rows scored the way samples are served (change 0).
            tails.append(_Tail().fit(member.score(paired)[1::2]))
        self.features = list(features)
        self._members, self._tails = members, tails
        self._centre = RobustScaler().fit(X)
        return self

    def _excess(self, X: FloatArray) -> FloatArray:
        """Per row: the largest member excess past its healthy tail."""
        paired = steady(X)
        return np.asarray(
            np.max(
                [
                    tail.excess(member.score(paired)[1::2])
                    for member, tail in zip(self._members, self._tails, strict=True)
                ],
                axis=0,
            )
        )

    def score(self, X: FloatArray) -> tuple[FloatArray, FloatArray, list[str]]:
        """Per row (rows x features in `self.features` order, finite): the calibrated score in
        [0, 1], the share of each feature in it [rows, features] (rows sum to 1, or to 0 when
        no feature deviates) and how that share was found (see `_attribution`)."""
        if not self.fitted:
            raise RuntimeError("fit the model first")
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(f"need rows of {len(self.features)} features")
        if X.shape[0] == 0:
            return np.zeros(0), np.zeros((0, len(self.features))), []
        excess = self._excess(X)
        shares, methods = self._attribution(X, excess)
        return _Tail.score(excess), shares, methods

    def _attribution(self, X: FloatArray, excess: FloatArray) -> tuple[FloatArray, list[str]]:
        """Which features drove each row's score.

        The autoencoder says it itself: each feature's reconstruction error. For the other
        models, a row past the healthy tail gets the Shapley values of the model's excess with
        the healthy median as the baseline (exact, over every coalition of features, up to
        MAX_SHAPLEY_FEATURES), which credits each of two signals that are each enough to
        alarm. A row inside the healthy range, a flagged row past the MAX_SHAPLEY_ROWS
        highest-scoring ones of the call, or a model over more features gets each feature's
        robust distance from its median ("deviation")."""
        if self.member_names == ["autoencoder"]:
            member: Any = self._members[0]
            weights = np.asarray(member.attribution(steady(X))[1::2], dtype=np.float64)
            methods = ["reconstruction-error"] * X.shape[0]
        else:
            weights = np.abs(self._centre.transform(X))
            methods = ["deviation"] * X.shape[0]
            # The most anomalous rows first: Shapley values cost 2**features scores a row.
            flagged = np.argsort(-excess, kind="stable")[: int((excess > 0).sum())]
            flagged = flagged[:MAX_SHAPLEY_ROWS]
            if flagged.size and X.shape[1] <= MAX_SHAPLEY_FEATURES:
                chunk = max(SHAPLEY_ROWS >> X.shape[1], 1)  # bounded memory per pass
                for at in range(0, flagged.size, chunk):
                    part = flagged[at : at + chunk]
                    weights[part] = np.maximum(self._shapley(X[part]), 0.0)
                for i in flagged.tolist():
                    methods[i] = "shapley"
        totals = weights.sum(axis=1, keepdims=True)
        shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
        return shares, methods

    def _shapley(self, rows: FloatArray) -> FloatArray:
        """Exact Shapley values [rows, features] of the excess, features absent at the median."""
        n = rows.shape[1]
        masks = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1  # coalition x feature
        inputs = np.where(masks[None, :, :] == 1, rows[:, None, :], self._centre.median)
        value = self._excess(inputs.reshape(-1, n)).reshape(rows.shape[0], 2**n)
        size = masks.sum(axis=1)
        weight = np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)])
        phi = np.zeros_like(rows)
        for j in range(n):
            without = np.flatnonzero(masks[:, j] == 0)
            gain = value[:, without | (1 << j)] - value[:, without]
            phi[:, j] = gain @ weight[size[without]]
        return phi

    def describe_training(self, X: FloatArray) -> dict[str, Any]:
        """Share of the training rows the model itself would flag (its false-alarm rate on
        the history it learned from)."""
        scores = _Tail.score(self._excess(X))
        return {
            "rows": int(X.shape[0]),
            "flagged_share": round(float(np.mean(scores >= self.threshold)), 5),
            "score_p99": round(float(np.quantile(scores, 0.99)), 5),
        }


class ResourceModelRegistry(VersionedRegistry):
    """The multivariate family: every version of the served resource model, one name."""

    family = "multivariate"
    NAME = "multivariate"

    def save(self, model: ResourceModel, *, data: dict[str, Any], metrics: dict[str, Any],
             training: dict[str, Any]) -> ModelInfo:  # fmt: skip
        """Register a fitted model as the next version."""
        if not model.fitted:
            raise RuntimeError("fit the model before registering it")

        def write(folder: Path, _version: int) -> None:
            with (folder / "model.pkl").open("wb") as out:
                pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)

        return self.register(
            self.NAME,
            write,
            detector=model.detector,
            threshold=model.threshold,
            data=data | {"features": model.features},
            config=model.params(),
            metrics=metrics,
            training=training,
        )

    def latest(self) -> int | None:
        return self.latest_version(self.NAME)

    def load(self, version: int | None = None) -> tuple[ResourceModel, ModelInfo]:
        """The fitted model of a version (the newest when none is given) and its info.

        The artefact is a pickle, as scikit-learn models are saved: load only registry folders
        this installation wrote."""
        info = self.info(self.NAME, version)
        with (Path(info.path) / "model.pkl").open("rb") as handle:
            model = pickle.load(handle)
        if not isinstance(model, ResourceModel) or not model.fitted:
            raise InvalidInputError("model", f"{info.path} does not hold a fitted resource model")
        return model, info


def fit_and_register(
    registry: ResourceModelRegistry,
    X: FloatArray,
    features: Sequence[str],
    *,
    data: dict[str, Any],
    detector: str = "ensemble",
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> ModelInfo:
    """Fit a resource model on healthy rows and register it as the next version."""
    started = time.perf_counter()
    model = ResourceModel(detector, threshold=threshold, seed=seed).fit(X, features)
    fit_s = time.perf_counter() - started
    metrics = {"training": model.describe_training(X)}
    training = {"rows": int(X.shape[0]), "fit_s": round(fit_s, 3)}
    return registry.save(model, data=data, metrics=metrics, training=training)
