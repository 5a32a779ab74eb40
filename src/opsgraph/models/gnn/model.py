"""The torch modules: GraphSAGE node classifier, its no-graph twin, and the neighbourhood
predictor of the self-supervised mode."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

DROPOUT = 0.3


class GraphSAGE(nn.Module):
    """Three SAGEConv layers (64 -> 32 -> 1) with ReLU and dropout; sigmoid = P(anomalous)."""

    def __init__(self, in_features: int, hidden: tuple[int, int] = (64, 32)) -> None:
        super().__init__()
        self.conv1 = SAGEConv(in_features, hidden[0])
        self.conv2 = SAGEConv(hidden[0], hidden[1])
        self.conv3 = SAGEConv(hidden[1], 1)
        self.dropout = nn.Dropout(DROPOUT)

    def logits(self, x: Tensor, edge_index: Tensor) -> Tensor:
        h = self.dropout(torch.relu(self.conv1(x, edge_index)))
        h = self.dropout(torch.relu(self.conv2(h, edge_index)))
        return self.conv3(h, edge_index)  # type: ignore[no-any-return]

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Probabilities [N, 1] (the shape torch_geometric.explain expects)."""
        return torch.sigmoid(self.logits(x, edge_index))


class NodeMLP(nn.Module):
    """The same layer sizes on the same features, blind to the graph: the baseline that says
    what the edges add."""

    def __init__(self, in_features: int, hidden: tuple[int, int] = (64, 32)) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden[0]),
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            nn.Linear(hidden[0], hidden[1]),
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            nn.Linear(hidden[1], 1),
        )

    def logits(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.net(x)  # type: ignore[no-any-return]

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return torch.sigmoid(self.logits(x, edge_index))


class NeighbourPredictor(nn.Module):
    """Predicts each node's current signals from its own past and its neighbours' present.

    The node's own present never enters: the first layer aggregates neighbours only (no root
    weight) and there is one hop, so a node cannot see itself through a neighbour. In the
    spirit of graph deviation networks (Deng & Hooi, AAAI 2021), with our dependency edges
    as the graph instead of a learned one.
    """

    def __init__(self, own_features: int, neighbour_features: int, outputs: int) -> None:
        super().__init__()
        self.neighbours = SAGEConv(neighbour_features, 64, root_weight=False)
        self.own = nn.Linear(own_features, 64)
        self.head = nn.Sequential(
            nn.ReLU(), nn.Dropout(DROPOUT), nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, outputs)
        )

    def forward(self, own: Tensor, neighbour: Tensor, edge_index: Tensor) -> Tensor:
        h = torch.cat([self.own(own), self.neighbours(neighbour, edge_index)], dim=1)
        return self.head(h)  # type: ignore[no-any-return]
