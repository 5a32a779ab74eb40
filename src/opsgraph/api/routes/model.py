"""Multivariate model endpoints: `/predict` scores one resource sample of named features and
`/batch_predict` many, each with a calibrated score, verdict, severity and attribution.

The served model is the newest registered version of the "multivariate" family; with none, the
first request fits one on the store's history (`multivariate.bootstrap`) or answers 409.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import Severity, severity_for
from opsgraph.models.registry import ModelInfo
from opsgraph.models.resource_model import ResourceModel
from opsgraph.runtime.resource_models import ResourceModels

router = APIRouter(tags=["models"])

#: Samples in one /batch_predict request.
MAX_SAMPLES = 10_000
#: Named features in one sample (models have a handful; this only bounds the request).
MAX_FEATURES = 64
#: Problems listed in one 422 (a batch can break the same rule thousands of times).
MAX_ERRORS = 100
#: Share of the attribution that the reported drivers hold together.
DRIVER_SHARE = 0.8

FeatureName = Annotated[str, StringConstraints(pattern=METRIC_NAME_RE.pattern)]
# Strict: a number sent as a string is an error, not a guess; NaN and infinities are refused.
FeatureValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]
ResourceId = Annotated[str, StringConstraints(pattern=RESOURCE_ID_RE.pattern)]


def get_resource_models(runtime: RuntimeDep) -> ResourceModels:
    """The runtime's served resource model."""
    return runtime.resource_models


ResourceModelsDep = Annotated[ResourceModels, Depends(get_resource_models)]


class SampleIn(BaseModel):
    """One resource's signals at one time, by name (the model's required features)."""

    model_config = ConfigDict(extra="forbid")

    features: dict[FeatureName, FeatureValue] = Field(
        min_length=1,
        max_length=MAX_FEATURES,
        description='Feature name -> finite number, e.g. {"cpu": 93.1, "memory": 41, ...}; '
        "GET /model_info lists the required ones.",
    )
    resource_id: ResourceId | None = Field(
        default=None, description="The resource the sample is of (echoed in the verdict)."
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_SAMPLES)


class ModelRef(BaseModel):
    name: str
    version: int
    detector: str
    threshold: float
    features: list[str]


class Verdict(BaseModel):
    resource_id: str | None
    is_anomaly: bool
    score: float = Field(ge=0.0, le=1.0, description="Calibrated anomaly score in [0, 1].")
    severity: Severity | None = Field(description="Set when is_anomaly.")
    attribution: dict[str, float] = Field(
        description="Each feature's share of the score (sums to 1, or 0 when none deviates)."
    )
    attribution_method: str = Field(description="shapley, deviation or reconstruction-error.")
    drivers: list[str] = Field(
        description="When anomalous: the features, largest share first, that hold 80% of it."
    )


class PredictOut(Verdict):
    model: ModelRef


class BatchVerdict(Verdict):
    index: int


class BatchOut(BaseModel):
    results: list[BatchVerdict]
    anomalous: list[int] = Field(description="Indexes of the anomalous samples.")
    model: ModelRef


def _matrix(
    samples: Sequence[SampleIn], features: list[str], where: Callable[[int], tuple[Any, ...]]
) -> Any:
    """The samples as rows in the model's feature order; unknown or missing features of every
    sample are reported at once (422, the first MAX_ERRORS - 1 of them named, e.g.
    samples[3].features.cpu, and a count of the rest)."""
    known = set(features)
    required = ", ".join(features)
    errors: list[dict[str, Any]] = []
    for i, sample in enumerate(samples):
        loc = where(i)
        for name in sorted(set(sample.features) - known):
            errors.append(
                {
                    "loc": (*loc, name),
                    "msg": f"unknown feature {name!r}; the model takes {required}",
                    "type": "unknown_feature",
                }
            )
        for name in features:
            if name not in sample.features:
                errors.append(
                    {
                        "loc": (*loc, name),
                        "msg": f"required feature missing; the model needs {required}",
                        "type": "missing_feature",
                    }
                )
    if len(errors) > MAX_ERRORS:
        rest = len(errors) - (MAX_ERRORS - 1)
        errors = errors[: MAX_ERRORS - 1]
        errors.append(
            {"loc": ("body",), "msg": f"{rest} more such problems", "type": "too_many_errors"}
        )
    if errors:
        raise RequestValidationError(errors)
    return np.array([[s.features[f] for f in features] for s in samples], dtype=np.float64)


def _ref(model: ResourceModel, info: ModelInfo) -> ModelRef:
    return ModelRef(
        name=info.name,
        version=info.version,
        detector=info.detector,
        threshold=model.threshold,
        features=model.features,
    )


def _verdicts(model: ResourceModel, samples: Sequence[SampleIn], X: Any) -> list[dict[str, Any]]:
    scores, shares, methods = model.score(X)
    out = []
    for i, sample in enumerate(samples):
        p = float(scores[i])
        anomalous = p >= model.threshold
        attribution = {
            f: round(float(v), 4) for f, v in zip(model.features, shares[i], strict=True)
        }
        drivers: list[str] = []
        if anomalous:
            held = 0.0
            for f in sorted(attribution, key=lambda k: -attribution[k]):
                if held >= DRIVER_SHARE or attribution[f] <= 0:
                    break
                drivers.append(f)
                held += attribution[f]
        out.append(
            {
                "resource_id": sample.resource_id,
                "is_anomaly": anomalous,
                "score": round(p, 4),
                "severity": severity_for(p) if anomalous else None,
                "attribution": attribution,
                "attribution_method": methods[i],
                "drivers": drivers,
            }
        )
    return out


@router.post(
    "/predict",
    response_model=PredictOut,
    summary="Score one resource sample with the multivariate model",
    responses={409: {"description": "No model, and none can be bootstrapped yet."}},
)
def predict(sample: SampleIn, models: ResourceModelsDep) -> PredictOut:
    model, info = models.get()
    X = _matrix([sample], model.features, lambda _: ("body", "features"))
    [verdict] = _verdicts(model, [sample], X)
    return PredictOut(**verdict, model=_ref(model, info))


@router.post(
    "/batch_predict",
    response_model=BatchOut,
    summary="Score up to 10,000 resource samples with the multivariate model",
    responses={409: {"description": "No model, and none can be bootstrapped yet."}},
)
def batch_predict(batch: BatchIn, models: ResourceModelsDep) -> BatchOut:
    model, info = models.get()
    X = _matrix(batch.samples, model.features, lambda i: ("body", "samples", i, "features"))
    verdicts = _verdicts(model, batch.samples, X)
    results = [BatchVerdict(index=i, **v) for i, v in enumerate(verdicts)]
    return BatchOut(
        results=results,
        anomalous=[r.index for r in results if r.is_anomaly],
        model=_ref(model, info),
    )
