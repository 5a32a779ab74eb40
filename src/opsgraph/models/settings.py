"""The `gnn` and `multivariate` sections of the configuration: the learned models a
server serves and bootstraps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from opsgraph.core.settings import Section


class GnnSettings(Section):
    model: Literal["graphsage", "graph_deviation"] = Field(
        default="graphsage",
        description="Registered graph model served by /predict and used in explanations.",
    )
    bootstrap: bool = Field(
        default=True,
        description="With no registered model, train a small one on the simulator at start; "
        "only when the simulator is the source (sim.enabled), never for a real estate.",
    )
    bootstrap_incidents: int = Field(
        default=12, ge=4, le=500, description="Simulated incidents per topology when bootstrapping."
    )
    bootstrap_epochs: int = Field(default=100, ge=1, le=5000, description="Bootstrap epochs.")
    shap_samples: int = Field(
        default=64, ge=8, le=2048, description="SHAP KernelExplainer samples per explanation."
    )
    explain_epochs: int = Field(
        default=200, ge=10, le=2000, description="GNNExplainer optimisation epochs."
    )


class MultivariateSettings(Section):
    """The multivariate resource model behind /predict and /batch_predict (docs/models.md)."""

    bootstrap: bool = Field(
        default=True,
        description="With no registered model, the first /predict fits one on the store's "
        "history (else 409 until `opsgraph train multivariate` registers one).",
    )
    detector: Literal["ensemble", "iforest", "ocsvm", "lof", "ecod", "autoencoder"] = Field(
        default="ensemble", description="Model the bootstrap fits (ensemble: IF + OCSVM + LOF)."
    )
    max_rows: int = Field(
        default=50_000, ge=100, le=5_000_000, description="History rows read for training."
    )
