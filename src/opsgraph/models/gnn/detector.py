"""Graph detectors: score every node of a GraphWindow with a probability of being anomalous.

`graphsage` learns from labelled incidents (the simulated cloud's ground truth); `node_mlp` is
its twin without edges; `graph_deviation` needs no labels: it learns to predict each node's
signals from its own past and its neighbours' present, and scores how far a node strays.
All three keep the feature normaliser and healthy baseline they were fitted with, so a saved
model scores new graphs exactly as it scored its evaluation set.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.utils import to_torch_csr_tensor

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.contract import FitReport
from opsgraph.models.gnn.features import (
    FEATURES,
    Baseline,
    BoolArray,
    FloatArray,
    GraphWindow,
    Normaliser,
    healthy_baseline,
    levels,
    node_features,
    node_normal,
)
from opsgraph.models.gnn.model import GraphSAGE, NeighbourPredictor, NodeMLP

#: What the self-supervised mode predicts: each signal's present level. (Predicting its robust
#: z instead was worse: a cascade's anomalous neighbours then "explain" the node's own jump.)
_TARGET = slice(0, len(SIGNALS))
#: Quantiles of training scores kept by the self-supervised mode for its calibration.
_CDF_POINTS = 1001


def _batch(windows: Sequence[GraphWindow], blocks: Sequence[FloatArray]) -> tuple[Tensor, Tensor]:
    """Disjoint union of the windows' graphs: stacked rows and offset edges."""
    edges, offset = [], 0
    for w in windows:
        edges.append(w.undirected_edges() + offset)
        offset += w.n_nodes
    x = torch.as_tensor(np.concatenate(blocks), dtype=torch.float32)
    e = torch.as_tensor(np.concatenate(edges, axis=1) if edges else np.zeros((2, 0)))
    return x, e.long()


def sparse_adjacency(edge_index: Tensor, n: int) -> Tensor:
    """The edges as a CSR matrix (rows = receiving node): SAGEConv's mean aggregation is then
    one sparse product, six times faster on CPU than gathering and scattering per edge. The
    explainers keep the edge list, which they need for edge masks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        adj: Tensor = to_torch_csr_tensor(edge_index.flip(0), size=(n, n))
    return adj


def _split(n: int, seed: int, fraction: float) -> tuple[list[int], list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    cut = max(1, round(n * fraction)) if n > 1 else 0
    return order[cut:], order[:cut]


def _check_labels(
    windows: Sequence[GraphWindow], labels: Sequence[BoolArray] | None
) -> list[BoolArray]:
    if labels is None:
        raise InvalidInputError("labels", "this detector learns from labelled windows")
    if len(labels) != len(windows):
        raise InvalidInputError("labels", f"{len(labels)} label arrays for {len(windows)} windows")
    out = []
    for w, y in zip(windows, labels, strict=True):
        arr = np.asarray(y, dtype=bool)
        if arr.shape != (w.n_nodes,):
            raise InvalidInputError("labels", f"expected {w.n_nodes} labels, got {arr.shape}")
        out.append(arr)
    return out


class SupervisedNodeDetector:
    """Class-weighted BCE, Adam (lr 0.01, weight decay 5e-4), best validation epoch kept."""

    name: str = "supervised"
    architecture: ClassVar[type[nn.Module]] = GraphSAGE
    threshold = 0.5

    def __init__(
        self,
        epochs: int = 200,
        lr: float = 0.01,
        weight_decay: float = 5e-4,
        val_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        self.params = {
            "epochs": epochs,
            "lr": lr,
            "weight_decay": weight_decay,
            "val_fraction": val_fraction,
            "seed": seed,
        }
        self.model: nn.Module = self.architecture(len(FEATURES))
        self.normaliser: Normaliser | None = None
        self.baseline: Baseline | None = None

    def features(self, window: GraphWindow) -> FloatArray:
        if self.normaliser is None:
            raise InvalidInputError("model", f"{self.name} is not fitted")
        return self.normaliser(node_features(window, self.baseline))

    def fit(
        self, windows: Sequence[GraphWindow], labels: Sequence[BoolArray] | None = None
    ) -> FitReport:
        ys = _check_labels(windows, labels)
        seed = int(self.params["seed"])
        torch.manual_seed(seed)
        self.model = self.architecture(len(FEATURES))
        self.baseline = healthy_baseline(windows, ys)
        raw = [node_features(w, self.baseline) for w in windows]
        self.normaliser = Normaliser.fit(np.concatenate(raw))
        blocks = [self.normaliser(r) for r in raw]
        train_i, val_i = _split(len(windows), seed, float(self.params["val_fraction"]))
        sets = []
        for part in (train_i, val_i or train_i):
            x, e = _batch([windows[i] for i in part], [blocks[i] for i in part])
            y = torch.as_tensor(np.concatenate([ys[i] for i in part]), dtype=torch.float32)
            sets.append((x, e, y))
        (x, e, y), (vx, ve, vy) = sets
        pos = float(y.sum())
        weight = torch.tensor((len(y) - pos) / pos if pos > 0 else 1.0)
        loss_fn = nn.BCEWithLogitsLoss(pos_weight=weight)
        opt = torch.optim.Adam(
            self.model.parameters(),
            lr=float(self.params["lr"]),
            weight_decay=float(self.params["weight_decay"]),
        )
        report = FitReport(0, 0, float("inf"), train_nodes=len(y), positives=int(pos))
        best: dict[str, Tensor] = {}
        for epoch in range(int(self.params["epochs"])):
            self.model.train()
            opt.zero_grad()
            loss = loss_fn(self.model.logits(x, e).squeeze(1), y)  # type: ignore[operator]
            loss.backward()
            opt.step()
            self.model.eval()
            with torch.no_grad():
                val = float(loss_fn(self.model.logits(vx, ve).squeeze(1), vy))  # type: ignore[operator]
            report.train_loss.append(loss.item())
            report.val_loss.append(val)
            if val < report.best_val_loss:
                report.best_val_loss, report.best_epoch = val, epoch
                best = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        report.epochs = len(report.train_loss)
        self.model.load_state_dict(best)
        self.model.eval()
        return report

    def predict(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """P(anomalous) [N] from normalised features (what the explainers perturb)."""
        self.model.eval()
        with torch.no_grad():
            return self.model(x, edge_index).squeeze(1)  # type: ignore[no-any-return]

    def tensors(self, window: GraphWindow) -> tuple[Tensor, Tensor]:
        x = torch.as_tensor(self.features(window), dtype=torch.float32)
        return x, torch.as_tensor(window.undirected_edges()).long()

    def score(self, window: GraphWindow) -> FloatArray:
        x, e = self.tensors(window)
        return self.predict(x, sparse_adjacency(e, window.n_nodes)).numpy().astype(np.float64)

    # -- saving ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return _saved(self)

    def load_state(self, state: dict[str, Any]) -> None:
        _restore(self, state)


class GraphSageDetector(SupervisedNodeDetector):
    """GraphSAGE over the dependency graph, trained on labelled incidents."""

    name = "graphsage"
    architecture = GraphSAGE


class NodeMlpDetector(SupervisedNodeDetector):
    """The same features and training without edges: the no-graph baseline."""

    name = "node_mlp"
    architecture = NodeMLP


class GraphDeviationDetector:
    """Self-supervised: predicted-vs-observed deviation of each node's signals.

    The score is the largest deviation over the five signals in units of the training
    residual spread, mapped through the distribution of training scores, so 0.99 means
    "stranger than 99 % of the nodes it learned from".
    """

    name = "graph_deviation"
    threshold = 0.99

    def __init__(self, epochs: int = 150, lr: float = 0.01, seed: int = 0) -> None:
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        self.params = {"epochs": epochs, "lr": lr, "seed": seed}
        n = len(SIGNALS)
        self.model = NeighbourPredictor(2 * n, len(FEATURES), n)
        self.normaliser: Normaliser | None = None
        self.baseline: Baseline | None = None
        self.own_norm: Normaliser | None = None
        self.spread = np.ones(n)
        self.cdf = np.zeros(_CDF_POINTS)

    def _inputs(self, window: GraphWindow) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(own past, everyone's present features, present levels to predict)."""
        feats = node_features(window, self.baseline)
        med, scale = node_normal(window, self.baseline)
        past = np.nan_to_num(levels(med))
        own = np.concatenate([past, np.log1p(np.nan_to_num(np.abs(scale)))], axis=1)
        return own, feats, feats[:, _TARGET]

    def fit(
        self, windows: Sequence[GraphWindow], labels: Sequence[BoolArray] | None = None
    ) -> FitReport:
        """Learns from all windows given; labels, if any, are ignored (no labels needed)."""
        if not windows:
            raise InvalidInputError("windows", "no windows to learn from")
        torch.manual_seed(int(self.params["seed"]))
        n = len(SIGNALS)
        self.model = NeighbourPredictor(2 * n, len(FEATURES), n)
        self.baseline = healthy_baseline(windows, None)
        parts = [self._inputs(w) for w in windows]
        own = np.concatenate([p[0] for p in parts])
        self.own_norm = Normaliser.fit(own)
        self.normaliser = Normaliser.fit(np.concatenate([p[1] for p in parts]))
        x_own = torch.as_tensor(self.own_norm(own), dtype=torch.float32)
        x_nb, e = _batch(windows, [self.normaliser(p[1]) for p in parts])
        target = x_nb[:, _TARGET].clone()
        opt = torch.optim.Adam(self.model.parameters(), lr=float(self.params["lr"]))
        report = FitReport(0, 0, float("inf"), train_nodes=int(x_own.shape[0]))
        best: dict[str, Tensor] = {}
        for epoch in range(int(self.params["epochs"])):
            self.model.train()
            opt.zero_grad()
            loss = nn.functional.smooth_l1_loss(self.model(x_own, x_nb, e), target)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            report.train_loss.append(loss.item())
            if loss.item() < report.best_val_loss:
                report.best_val_loss, report.best_epoch = loss.item(), epoch
                best = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        report.val_loss = list(report.train_loss)
        report.epochs = len(report.train_loss)
        self.model.load_state_dict(best)
        self.model.eval()
        with torch.no_grad():
            resid = (self.model(x_own, x_nb, e) - target).abs().numpy()
        self.spread = np.maximum(np.median(resid, axis=0) * 1.4826, 1e-3)
        raw = (resid / self.spread).max(axis=1)
        self.cdf = np.quantile(raw, np.linspace(0.0, 1.0, _CDF_POINTS))
        return report

    def deviations(self, window: GraphWindow) -> FloatArray:
        """|observed - predicted| per node and signal, in training residual spreads."""
        if self.normaliser is None or self.own_norm is None:
            raise InvalidInputError("model", f"{self.name} is not fitted")
        own, feats, _ = self._inputs(window)
        x_own = torch.as_tensor(self.own_norm(own), dtype=torch.float32)
        x_nb = torch.as_tensor(self.normaliser(feats), dtype=torch.float32)
        e = torch.as_tensor(window.undirected_edges()).long()
        self.model.eval()
        with torch.no_grad():
            pred = self.model(x_own, x_nb, e).numpy()
        out: FloatArray = np.abs(pred - x_nb[:, _TARGET].numpy()) / self.spread
        return out

    def calibrate(self, raw: FloatArray) -> FloatArray:
        """Training-score rank up to the 99th percentile; beyond it an exponential tail
        fitted to the top 10 %, so scores keep their order above anything seen in training."""
        grid = np.linspace(0.0, 1.0, _CDF_POINTS)
        q90, q99 = np.interp([0.9, 0.99], grid, self.cdf)
        top = self.cdf[self.cdf > q90]
        beta = max(float(np.mean(top - q90)) if top.size else 0.0, 1e-6)
        below = np.interp(raw, self.cdf, grid)
        tail = 1.0 - 0.01 * np.exp(-(raw - q99) / beta)
        out: FloatArray = np.clip(np.where(raw > q99, tail, below), 0.0, 1.0)
        return out.astype(np.float64)

    def score(self, window: GraphWindow) -> FloatArray:
        return self.calibrate(self.deviations(window).max(axis=1))

    def state(self) -> dict[str, Any]:
        if self.own_norm is None:
            raise InvalidInputError("model", f"{self.name} is not fitted")
        return _saved(
            self,
            own_normaliser=[self.own_norm.mean.tolist(), self.own_norm.std.tolist()],
            spread=self.spread.tolist(),
            cdf=self.cdf.tolist(),
        )

    def load_state(self, state: dict[str, Any]) -> None:
        _restore(self, state)
        self.own_norm = Normaliser(*(np.asarray(a) for a in state["own_normaliser"]))
        self.spread = np.asarray(state["spread"])
        self.cdf = np.asarray(state["cdf"])


def _saved(
    detector: SupervisedNodeDetector | GraphDeviationDetector, **extra: Any
) -> dict[str, Any]:
    """What every graph detector saves: name, parameters, features, weights, normaliser and
    healthy baseline, plus its own `extra`."""
    if detector.normaliser is None or detector.baseline is None:
        raise InvalidInputError("model", f"{detector.name} is not fitted")
    norm = detector.normaliser
    return {
        "detector": detector.name,
        "params": dict(detector.params),
        "features": list(FEATURES),
        "weights": detector.model.state_dict(),
        "normaliser": [norm.mean.tolist(), norm.std.tolist()],
        "baseline": detector.baseline.to_json(),
        **extra,
    }


def _restore(
    detector: SupervisedNodeDetector | GraphDeviationDetector, state: dict[str, Any]
) -> None:
    if list(state.get("features", [])) != list(FEATURES):
        raise InvalidInputError("model", "saved with other features; retrain it")
    detector.model.load_state_dict(state["weights"])
    detector.model.eval()
    detector.normaliser = Normaliser(*(np.asarray(a) for a in state["normaliser"]))
    detector.baseline = Baseline.from_json(state["baseline"])
