"""The graph detector contract: every node of a GraphWindow scored at once, fitted on windows.

Kept free of torch so the registry can check plugins without loading a model library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from opsgraph.models.gnn.features import BoolArray, FloatArray, GraphWindow


@dataclass(slots=True)
class FitReport:
    """What training did: per-epoch losses and the kept (best validation) epoch."""

    epochs: int
    best_epoch: int
    best_val_loss: float
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_nodes: int = 0
    positives: int = 0


@runtime_checkable
class GraphDetector(Protocol):
    """Scores all nodes of a graph at once; fitted on windows of history."""

    name: str
    #: Probability at or above which a node is flagged.
    threshold: float

    def fit(
        self, windows: Sequence[GraphWindow], labels: Sequence[BoolArray] | None = None
    ) -> FitReport: ...

    def score(self, window: GraphWindow) -> FloatArray:
        """P(anomalous) per node, in window.node_ids order."""
        ...

    def state(self) -> dict[str, Any]:
        """Everything needed to score again: weights, normaliser, baseline, parameters."""
        ...

    def load_state(self, state: dict[str, Any]) -> None: ...
