"""The `gnn` and `multivariate` sections of the configuration: the learned models a
server serves and bootstraps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from opsgraph.core.settings import Section


class GnnSettings(Section):
    model: Literal["graphsage", "graph_deviation"] | None = Field(
        default=None,
        description="Registered graph model served by /predict (graphsage also explains "
        "anomalies); none: graphsage with the simulator, graph_deviation (self-supervised, "
        "no labels needed) on a real estate.",
    )
    bootstrap: bool = Field(
        default=True,
        description="With no registered model, train one: on simulated incidents when the "
        "simulator is the source (sim.enabled); on a real estate, the self-supervised model on "
        "its own recorded samples once the store holds estate_min_history_s of them.",
    )
    estate_min_history_s: float = Field(
        default=6 * 3600.0,
        ge=600,
        le=30 * 86400,
        description="Real estate: seconds of recorded samples before the bootstrap trains.",
    )
    bootstrap_incidents: int = Field(
        default=12, ge=4, le=500, description="Simulated incidents per topology when bootstrapping."
    )
    bootstrap_epochs: int = Field(default=100, ge=1, le=5000, description="Bootstrap epochs.")
    shap_samples: int = Field(
        default=64, ge=8, le=2048, description="SHAP KernelExplainer samples per explanation."
    )
    explain_epochs: int = Field(
        default=50,
        ge=10,
        le=2000,
        description="GNNExplainer optimisation epochs (50: the same top signal as 200 on 24 "
        "simulated fault windows at a third of the time, `opsgraph bench gnn`).",
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
