"""Why the GraphSAGE detector flagged a node: which of its signals and which neighbours.

Kernel SHAP on the node's own features is blended with GNNExplainer's masks over its k-hop
neighbourhood; where the model is flat there, the |z| deviation from healthy stands in.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.explain import Explainer, GNNExplainer
from torch_geometric.utils import k_hop_subgraph

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.models.gnn.features import FEATURES, FloatArray, GraphWindow

#: Variance of the model outputs seen by SHAP below which the model is taken as flat here.
FLAT_VARIANCE = 1e-6
#: Edge-mask value from which an edge belongs to the important subgraph.
EDGE_CUTOFF = 0.5
TOP_NODES = 10
#: Nodes per batched forward of the SHAP prediction function (copies x subgraph size), so a
#: large neighbourhood cannot exhaust memory.
_BATCH_NODES = 200_000
#: Signal of each FEATURES column: level columns are named by the signal, others
#: "<signal>_<stat>".
_SIGNAL_OF = [name if name in SIGNALS else name.rsplit("_", 1)[0] for name in FEATURES]


@dataclass(slots=True)
class NodeExplanation:
    """Why one node scored as it did: signal shares (summing to 1), per-feature shares, the
    neighbours and message edges (source -> target) that carried the score, and how."""

    node_id: str
    score: float
    feature_importance: dict[str, float]
    feature_detail: dict[str, float]
    important_nodes: list[dict[str, Any]] = field(default_factory=list)
    important_edges: list[dict[str, Any]] = field(default_factory=list)
    method: str = "shap+gnnexplainer"
    fallback_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _check(detector: GraphSageDetector, window: GraphWindow, node: int, **counts: int) -> None:
    if detector.normaliser is None:
        raise InvalidInputError("detector", f"{detector.name} is not fitted")
    if isinstance(node, bool) or not isinstance(node, int | np.integer):
        raise InvalidInputError("node", f"expected a node index, got {type(node).__name__}")
    if not 0 <= node < window.n_nodes:
        raise InvalidInputError("node", f"{node} is outside 0..{window.n_nodes - 1}")
    for name, value in counts.items():
        if value < 1:
            raise InvalidInputError(name, f"must be at least 1, got {value}")


class _LogOdds(nn.Module):
    """The detector's log-odds instead of its probability. A clearly anomalous node sits at
    P = 1.0, where the sigmoid is flat: both explainers would see no gradient and no change
    exactly where an operator asks "why"."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.model.logits(x, edge_index)  # type: ignore[operator,no-any-return]


def _gnn_masks(
    model: nn.Module, x: Tensor, edge_index: Tensor, target: int, epochs: int
) -> tuple[FloatArray, FloatArray]:
    """GNNExplainer's feature mask [N, F] and edge mask [E] for the target's prediction."""
    explainer = Explainer(
        model=model,
        algorithm=GNNExplainer(epochs=epochs),
        explanation_type="model",
        node_mask_type="attributes",
        # An isolated node has no edge to mask; asking for one fails on an empty gradient.
        edge_mask_type="object" if edge_index.shape[1] else None,
        model_config=dict(mode="binary_classification", task_level="node", return_type="raw"),
    )
    out = explainer(x, edge_index, index=target)
    edge = out.get("edge_mask")
    return (
        out.node_mask.detach().numpy().astype(np.float64),
        np.zeros(0) if edge is None else edge.detach().numpy().astype(np.float64),
    )


def _shap_values(
    model: nn.Module,
    x: Tensor,
    edge_index: Tensor,
    target: int,
    background: FloatArray,
    samples: int,
    seed: int,
) -> tuple[FloatArray, FloatArray]:
    """SHAP values of the target's own features, and every output the model gave meanwhile."""
    n = x.shape[0]
    seen: list[FloatArray] = []

    def predict(rows: FloatArray) -> FloatArray:
        rows_t = torch.as_tensor(np.asarray(rows), dtype=torch.float32)
        per = max(1, _BATCH_NODES // n)
        parts = []
        for start in range(0, rows_t.shape[0], per):
            chunk = rows_t[start : start + per]
            # One disjoint copy of the subgraph per candidate row: one forward for the batch.
            offsets = n * torch.arange(chunk.shape[0])
            xb = x.repeat(chunk.shape[0], 1)
            xb[offsets + target] = chunk
            eb = (edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)
            with torch.no_grad():
                parts.append(model(xb, eb).view(-1, n)[:, target])
        out = torch.cat(parts).numpy().astype(np.float64)
        seen.append(out)
        return out

    # shap's import trips a matplotlib deprecation and its solver may warn on a degenerate
    # fit; neither is actionable here, and the flat case is handled by the fallback below.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

        # KernelExplainer samples coalitions from numpy's global RNG: seed it for
        # reproducibility, then give the caller back its own stream.
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            explainer = shap.KernelExplainer(predict, background[None, :])
            values = explainer.shap_values(
                x[target].numpy()[None, :].astype(np.float64),
                nsamples=samples,
                silent=True,
                # All 20 features get a value; the GNN mask already does the selecting.
                l1_reg=False,
            )
        finally:
            np.random.set_state(state)
    return np.asarray(values, dtype=np.float64).reshape(-1), np.concatenate(seen)


def explain_node(
    detector: GraphSageDetector,
    window: GraphWindow,
    node: int,
    *,
    shap_samples: int = 64,
    gnn_epochs: int = 50,
    hops: int = 3,
    seed: int = 0,
) -> NodeExplanation:
    """Explains the detector's score of `window`'s node at index `node`.

    Safe to call from several threads at once: GNNExplainer sets its masks on the layers of
    the model it explains, so each call explains its own copy of the served model (a few
    hundred kilobytes), never the one other requests are using."""
    _check(detector, window, node, shap_samples=shap_samples, gnn_epochs=gnn_epochs, hops=hops)
    node = int(node)
    # eval: dropout would have both explainers chase noise.
    model = copy.deepcopy(detector.model).eval()
    x_all, e_all = detector.tensors(window)
    probs = detector.predict(x_all, e_all).numpy().astype(np.float64)
    healthy = probs < detector.threshold
    # Features are standardised on training data, so zero is the training mean.
    background = (
        x_all[torch.as_tensor(healthy)].numpy().astype(np.float64).mean(axis=0)
        if healthy.any()
        else np.zeros(len(FEATURES))
    )

    # Past `hops` hops nothing reaches the node (one hop per layer), so cost tracks the
    # neighbourhood, not the graph.
    subset, e_sub, mapping, _ = k_hop_subgraph(
        node, hops, e_all, relabel_nodes=True, num_nodes=window.n_nodes
    )
    x_sub, target = x_all[subset], int(mapping[0])
    ids = [window.node_ids[int(i)] for i in subset]

    log_odds = _LogOdds(model).eval()
    with torch.random.fork_rng(devices=[]):  # seeded, without moving the caller's stream
        torch.manual_seed(seed)
        node_mask, edge_mask = _gnn_masks(log_odds, x_sub, e_sub, target, gnn_epochs)
    shap_vals, outputs = _shap_values(
        log_odds, x_sub, e_sub, target, background, shap_samples, seed
    )

    blend = np.sqrt(np.abs(shap_vals) * node_mask[target])
    variance = float(np.var(outputs))
    method, reason = "shap+gnnexplainer", None
    if variance < FLAT_VARIANCE:
        reason = f"model output is flat around this node (variance {variance:.1e} < 1e-6)"
    elif not np.isfinite(blend).all() or blend.sum() <= 1e-12:
        reason = "SHAP and GNNExplainer share no important feature (blend sums to 0)"
    if reason is not None:
        method = "zscore-fallback"
        reason += "; importance is the |z| deviation from the healthy baseline"
        blend = np.abs(x_sub[target].numpy().astype(np.float64) - background)
    total = blend.sum()
    detail = (
        blend / total if np.isfinite(total) and total > 0 else np.full(blend.size, 1 / blend.size)
    )

    per_signal = {s: 0.0 for s in SIGNALS}
    for sig, value in zip(_SIGNAL_OF, detail, strict=True):
        per_signal[sig] += float(value)

    node_weight = node_mask.sum(axis=1)
    top = float(node_weight.max()) if node_weight.size else 0.0
    nodes = [
        {"node": ids[i], "importance": round(float(node_weight[i]) / top, 4)}
        for i in np.argsort(-node_weight, kind="stable")[:TOP_NODES]
        if top > 0 and node_weight[i] > 0
    ]
    # Edges run source -> target as messages flow, so both directions of a link can appear.
    edges = [
        {
            "source": ids[int(e_sub[0, j])],
            "target": ids[int(e_sub[1, j])],
            "importance": round(float(edge_mask[j]), 4),
        }
        for j in np.argsort(-edge_mask, kind="stable")
        if edge_mask[j] >= EDGE_CUTOFF
    ]
    return NodeExplanation(
        node_id=window.node_ids[node],
        score=float(probs[node]),
        feature_importance={s: round(v, 4) for s, v in per_signal.items()},
        feature_detail={f: round(float(v), 4) for f, v in zip(FEATURES, detail, strict=True)},
        important_nodes=nodes,
        important_edges=edges,
        method=method,
        fallback_reason=reason,
    )
