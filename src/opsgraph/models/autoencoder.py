"""Autoencoders fitted on normal history (torch): the anomaly score of a row is how badly the
model reconstructs it, and the per-signal reconstruction error says which signals did it.

A plain autoencoder scores with the reconstruction error; the variational one adds the KL
divergence of the row's code from the prior. The training errors give a percentile threshold
and the reference for drift monitoring: when recent errors no longer look like them, retrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from opsgraph.core.extras import require
from opsgraph.detect.base import FloatArray
from opsgraph.models.multivariate import RobustScaler, window_features


@dataclass(frozen=True, slots=True)
class Drift:
    """Does the recent error distribution still match training? (two-sample KS statistic)"""

    ks: float
    mean_ratio: float
    retrain: bool

    def describe(self) -> str:
        verdict = "retrain recommended" if self.retrain else "no drift"
        return f"KS {self.ks:.3f}, mean error x{self.mean_ratio:.2f} of training: {verdict}"


def _ks(a: FloatArray, b: FloatArray) -> float:
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid, side="right") / a.size
    fb = np.searchsorted(np.sort(b), grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


class AutoencoderDetector:
    """An MLP autoencoder (or VAE) over robust-scaled signals and their first differences."""

    def __init__(
        self,
        *,
        variational: bool = False,
        hidden: int = 32,
        code: int = 8,
        epochs: int = 80,
        lr: float = 1e-3,
        batch: int = 256,
        percentile: float = 99.0,
        seed: int = 0,
    ) -> None:
        if hidden < 2 or code < 1 or epochs < 1 or not 50.0 <= percentile < 100.0:
            raise ValueError("need hidden >= 2, code >= 1, epochs >= 1, 50 <= percentile < 100")
        self.name = "vae" if variational else "autoencoder"
        require("torch", f"the {self.name} detector")
        self.variational = variational
        self.hidden, self.code, self.epochs = hidden, code, epochs
        self.lr, self.batch, self.percentile, self.seed = lr, batch, percentile, seed
        self._scaler = RobustScaler()
        self._net: Any = None
        self.threshold = float("nan")
        self._train_errors = np.zeros(0)

    # -- model ----------------------------------------------------------------------------
    def _build(self, width: int) -> Any:
        import torch
        from torch import nn

        torch.manual_seed(self.seed)
        out_code = self.code * (2 if self.variational else 1)
        encoder = nn.Sequential(
            nn.Linear(width, self.hidden), nn.ReLU(), nn.Linear(self.hidden, out_code)
        )
        decoder = nn.Sequential(
            nn.Linear(self.code, self.hidden), nn.ReLU(), nn.Linear(self.hidden, width)
        )
        return nn.ModuleDict({"encoder": encoder, "decoder": decoder})

    def _forward(self, z: Any, *, sample: bool) -> tuple[Any, Any]:
        """Reconstruction and per-row KL term (zeros for the plain autoencoder)."""
        import torch

        h = self._net["encoder"](z)
        if not self.variational:
            return self._net["decoder"](h), torch.zeros(z.shape[0])
        mu, logvar = h[:, : self.code], h[:, self.code :].clamp(-10, 10)
        code = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
        return self._net["decoder"](code), kl

    def fit(self, X: FloatArray) -> None:
        import torch

        if X.ndim != 2 or X.shape[0] < 10:
            raise ValueError("fit needs at least 10 rows of signals")
        features = window_features(X)
        self._scaler.fit(features)
        data = torch.tensor(self._scaler.transform(features), dtype=torch.float32)
        self._net = self._build(data.shape[1])
        generator = torch.Generator().manual_seed(self.seed)
        optimiser = torch.optim.Adam(self._net.parameters(), lr=self.lr)
        self._net.train()
        for _ in range(self.epochs):
            order = torch.randperm(data.shape[0], generator=generator)
            for start in range(0, data.shape[0], self.batch):
                rows = data[order[start : start + self.batch]]
                recon, kl = self._forward(rows, sample=True)
                loss = ((recon - rows) ** 2).mean() + 1e-3 * kl.mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        self._net.eval()
        self._train_errors = self.score(X)
        self.threshold = float(np.percentile(self._train_errors, self.percentile))

    # -- scoring --------------------------------------------------------------------------
    def _errors(self, X: FloatArray) -> tuple[FloatArray, FloatArray]:
        import torch

        if self._net is None:
            raise RuntimeError("fit the detector first")
        z = torch.tensor(self._scaler.transform(window_features(X)), dtype=torch.float32)
        with torch.no_grad():
            recon, kl = self._forward(z, sample=False)
        squared = ((recon - z) ** 2).numpy().astype(np.float64)
        return squared, kl.numpy().astype(np.float64)

    def score(self, X: FloatArray) -> FloatArray:
        """Mean squared reconstruction error per row (+ the KL term for the VAE)."""
        squared, kl = self._errors(X)
        return np.asarray(squared.mean(axis=1) + (1e-3 * kl if self.variational else 0.0))

    def attribution(self, X: FloatArray) -> FloatArray:
        """Per row and signal: its reconstruction error (value and change), [rows, signals]."""
        squared, _ = self._errors(X)
        n = X.shape[1]
        return squared[:, :n] + squared[:, n:]

    def drift(self, X: FloatArray, *, ks_limit: float = 0.2, mean_limit: float = 2.0) -> Drift:
        """Compare the errors on recent rows with the training errors."""
        recent = self.score(X)
        ks = _ks(self._train_errors, recent)
        ratio = float(recent.mean() / max(self._train_errors.mean(), 1e-12))
        return Drift(ks=ks, mean_ratio=ratio, retrain=ks > ks_limit or ratio > mean_limit)


def autoencoder(**params: Any) -> AutoencoderDetector:
    return AutoencoderDetector(variational=False, **params)


def vae(**params: Any) -> AutoencoderDetector:
    return AutoencoderDetector(variational=True, **params)
