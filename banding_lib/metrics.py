"""Banding score: how much of a kernel's spatial variance lies in its row means or column means.

Conventions: kernels are NCHW-like, the last two axes are (y, x) = (rows, columns). A horizontal band
is constant along x and varies along y, so its variance is explained by the *row* means.

For one 2-D kernel K (kh x kw) with grand mean m, the two-way decomposition without interaction is
    total = sum (K - m)^2
    rows  = kw * sum_r (mean_r - m)^2        (horizontal bands)
    cols  = kh * sum_c (mean_c - m)^2        (vertical bands)
and the shares are rows/total and cols/total. Extra leading axes of one neuron (input channels of a
raw weight, or the three colours of a reduced picture) are pooled: their sums of squares are added
before the ratio, so a neuron is one number. For i.i.d. Gaussian entries the row sum of squares has
kh-1 of the total's kh*kw-1 degrees of freedom, so the row share averages (kh-1)/(kh*kw-1):
(k-1)/(k^2-1) for a k x k kernel, 0.25 for 3x3 and 0.167 for 5x5.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict

import numpy as np
import torch


def _as_neurons(w) -> np.ndarray:
    """Any (N, ..., kh, kw) array -> float64 (N, M, kh, kw), M = product of the middle axes."""
    w = w.detach().cpu().double().numpy() if isinstance(w, torch.Tensor) else np.asarray(w, dtype=np.float64)
    if w.ndim < 3:
        raise ValueError(f"expected kernels shaped (N, ..., kh, kw) with ndim >= 3, got shape {w.shape}")
    return w.reshape(w.shape[0], -1, w.shape[-2], w.shape[-1])


def sums_of_squares(w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-neuron (rows, cols, total) sums of squares, each (N,); middle axes pooled."""
    k = _as_neurons(w)  # (N, M, kh, kw)
    kh, kw = k.shape[-2:]
    mean = k.mean(axis=(-2, -1), keepdims=True)  # (N, M, 1, 1)
    row = k.mean(axis=-1, keepdims=True)  # (N, M, kh, 1)
    col = k.mean(axis=-2, keepdims=True)  # (N, M, 1, kw)
    total = ((k - mean) ** 2).sum(axis=(1, 2, 3))
    rows = kw * ((row - mean) ** 2).sum(axis=(1, 2, 3))
    cols = kh * ((col - mean) ** 2).sum(axis=(1, 2, 3))
    return rows, cols, total


def band_shares(w) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron (row_share, col_share), each (N,), of kernels shaped (N, ..., kh, kw), e.g. a raw conv
    weight (out, in, kh, kw), or reduced pictures as kernels (reduce.Reduction.kernels).
    Neurons with zero variance get NaN (the summaries skip them)."""
    rows, cols, total = sums_of_squares(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(total > 0, total, np.nan)
        return rows / safe, cols / safe


def null_share(kh: int, kw: int | None = None) -> float:
    """Expected row share of i.i.d. noise: (kh-1)/(kh*kw-1); (k-1)/(k^2-1) for a square k x k kernel.
    (The column share is (kw-1)/(kh*kw-1).)"""
    kw = kh if kw is None else kw
    return (kh - 1) / (kh * kw - 1)


def mirror_shares(w) -> np.ndarray:
    """Per-neuron share (N,) of the spatial sum of squares (grand mean removed, middle axes pooled) that is
    left-right symmetric, K(y, x) = K(y, kw-1-x). 1: mirror-symmetric kernels; i.i.d. noise: see mirror_null."""
    k = _as_neurons(w)
    k = k - k.mean(axis=(-2, -1), keepdims=True)
    sym = (k + k[..., ::-1]) / 2
    total = (k ** 2).sum(axis=(1, 2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sym ** 2).sum(axis=(1, 2, 3)) / np.where(total > 0, total, np.nan)


def mirror_null(kh: int, kw: int | None = None) -> dict:
    """Noise references for mirror symmetry. i.i.d. noise puts (kh*h - 1)/(kh*kw - 1) of its variance in
    the symmetric part, h = ceil(kw/2) ("mirror"). Noise made exactly left-right symmetric (isotropic in the
    kh*h-dimensional symmetric subspace) has row share (kh-1)/(kh*h-1) and column share (h-1)/(kh*h-1)
    ("row", "col"): for 5x5, 0.29 / 0.14 instead of 0.17 / 0.17, so symmetry alone raises the row share."""
    kw = kh if kw is None else kw
    h = (kw + 1) // 2
    return {"mirror": (kh * h - 1) / (kh * kw - 1), "row": (kh - 1) / (kh * h - 1), "col": (h - 1) / (kh * h - 1)}


@dataclass(frozen=True)
class Score:
    """A layer's banding summary. `row`/`col`: mean of the per-neuron shares; `*_lo`/`*_hi`: 95 %
    bootstrap CI of that mean over neurons; `null`: the i.i.d. expectation of the row share."""

    row: float
    col: float
    row_lo: float
    row_hi: float
    col_lo: float
    col_hi: float
    null: float
    neurons: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"row {self.row:.2f} [{self.row_lo:.2f}, {self.row_hi:.2f}]  "
                f"col {self.col:.2f} [{self.col_lo:.2f}, {self.col_hi:.2f}]  (null {self.null:.2f}, n={self.neurons})")


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `values` (NaNs dropped)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def score(w, init=None, *, n_boot: int = 2000, seed: int = 0) -> Score:
    """Banding summary of a layer. `w`: kernels (N, ..., kh, kw): a raw weight (out, in, kh, kw) or reduced
    pictures as kernels (reduce.Reduction.kernels, or its .score). `init`: the layer's initial weight; when
    given, W - W_init is scored (what training changed, without the random init)."""
    if init is not None:
        if tuple(init.shape) != tuple(w.shape):
            raise ValueError(f"init shape {tuple(init.shape)} does not match weight shape {tuple(w.shape)}")
        w = w - init
    r, c = band_shares(w)
    ok = np.isfinite(r)
    if not ok.any():
        raise ValueError("every kernel of this layer is constant (zero variance): nothing to score")
    kh, kw = _as_neurons(w).shape[-2:]
    r_lo, r_hi = bootstrap_ci(r, n_boot, seed=seed)
    c_lo, c_hi = bootstrap_ci(c, n_boot, seed=seed + 1)
    return Score(
        row=float(np.nanmean(r)), col=float(np.nanmean(c)),
        row_lo=r_lo, row_hi=r_hi, col_lo=c_lo, col_hi=c_hi,
        null=null_share(kh, kw), neurons=int(ok.sum()),
    )
