"""Weight reduction: each neuron's kernel as a kh x kw RGB picture (the "Visualizing Weights" method).

For neuron n with kernel W[n] (C_in, kh, kw): split signs into 2*C_in non-negative channels
[max(W, 0); max(-W, 0)], flatten to V (kh*kw, 2*C_in), factorize V ~ S @ F with NMF, 3 components.
S (kh*kw, 3) are the spatial factors: reshaped to (kh, kw, 3) and divided by the neuron's maximum they
are the picture's R, G, B. F (3, 2*C_in) says which input channels each colour stands for.

All neurons are factorized at once (batched HALS in torch), checked against
scikit-learn's NMF in the tests. Colours are made consistent across a layer by permuting each
neuron's three factors to best match a layer-wide reference factorization of all neurons together.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
import torch

from . import metrics, results

EPS = 1e-12
VERSION = 2  # of the reduction's output: raise it when a change alters the pictures (caches key on it)


def sign_split(w: torch.Tensor) -> torch.Tensor:
    """(out, in, kh, kw) -> V (out, kh*kw, 2*in), non-negative: positive then negative parts."""
    if w.ndim != 4:
        raise ValueError(f"expected a conv weight shaped (out, in, kh, kw), got shape {tuple(w.shape)}; "
                         "for a Linear layer reshape its input axis to (in, kh, kw) first")
    out, cin, kh, kw = w.shape
    v = torch.cat([w.clamp(min=0), (-w).clamp(min=0)], dim=1)  # (out, 2*in, kh, kw)
    return v.reshape(out, 2 * cin, kh * kw).transpose(1, 2).contiguous()  # (out, kh*kw, 2*in)


def _nndsvda(v: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched NNDSVD initialization (Boutsidis & Gallopoulos 2008), zeros filled with the mean as in
    scikit-learn's 'nndsvda'. v (B, m, n) -> S (B, m, k), F (B, k, n)."""
    B, m, n = v.shape
    if m > n:  # work on the transpose, so the Gram matrix below is the small one
        St, Ft = _nndsvda(v.transpose(1, 2), k)
        return Ft.transpose(1, 2).contiguous(), St.transpose(1, 2).contiguous()
    # SVD through the small (m x m) Gram matrix: much faster than a batched SVD of (m, n) when m << n.
    evals, u = torch.linalg.eigh((v @ v.transpose(1, 2)).double())  # ascending
    r = min(k, m)  # only the leading r singular pairs are used
    u, s = u.flip(-1)[:, :, :r].float(), evals.flip(-1)[:, :r].clamp(min=0).sqrt().float()  # (B, m, r), (B, r)
    vh = (u.transpose(1, 2) @ v) / s[:, :, None].clamp(min=EPS)  # (B, r, n)
    S = v.new_zeros(B, m, k)
    F = v.new_zeros(B, k, n)
    S[:, :, 0] = s[:, :1].sqrt() * u[:, :, 0].abs()
    F[:, 0, :] = s[:, :1].sqrt() * vh[:, 0, :].abs()
    for j in range(1, r):
        x, y = u[:, :, j], vh[:, j, :]
        xp, xn, yp, yn = x.clamp(min=0), (-x).clamp(min=0), y.clamp(min=0), (-y).clamp(min=0)
        xpn, xnn, ypn, ynn = xp.norm(dim=1), xn.norm(dim=1), yp.norm(dim=1), yn.norm(dim=1)
        use_pos = (xpn * ypn >= xnn * ynn)[:, None]  # (B, 1): keep the dominant sign pair
        sigma = torch.where(use_pos[:, 0], xpn * ypn, xnn * ynn)
        xu = torch.where(use_pos, xp / (xpn[:, None] + EPS), xn / (xnn[:, None] + EPS))
        yv = torch.where(use_pos, yp / (ypn[:, None] + EPS), yn / (ynn[:, None] + EPS))
        lam = (s[:, j] * sigma).sqrt()[:, None]
        S[:, :, j], F[:, j, :] = lam * xu, lam * yv
    avg = v.mean(dim=(1, 2), keepdim=True)  # (B, 1, 1)
    S = torch.where(S < EPS, avg.expand_as(S), S)
    F = torch.where(F < EPS, avg.expand_as(F), F)
    return S, F


def _hals(X: list[torch.Tensor], A: torch.Tensor, G: torch.Tensor, passes: int) -> None:
    """HALS passes over one factor, in place: X holds its k columns, each (B, L) and contiguous; the
    factor minimizing ||v - ...|| has normal equations X G = A with A (B, k, L) and Gram G (B, k, k).
    Column j moves to its exact clipped optimum with the others fixed: x_j += (a_j - sum_i g_ji x_i) / g_jj."""
    inv = 1.0 / (G.diagonal(dim1=1, dim2=2) + EPS)  # (B, k)
    for _ in range(passes):
        for j in range(len(X)):
            r = torch.addcmul(A[:, j], G[:, j, 0, None], X[0], value=-1.0)
            for i in range(1, len(X)):
                r.addcmul_(G[:, j, i, None], X[i], value=-1.0)
            X[j].addcmul_(r, inv[:, j, None]).clamp_(min=EPS)


INNER = (2, 5)  # HALS passes per sweep over F and over S (the products they reuse cost far more)
CHECK = 5  # sweeps between convergence checks


def nmf(v: torch.Tensor, k: int = 3, iters: int = 200, seed: int | None = None,
        tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched NMF, Frobenius loss, by accelerated HALS (hierarchical alternating least squares, Cichocki
    & Phan 2009; several passes per product as in Gillis & Glineur 2012). v (B, m, n) >= 0 -> S (B, m, k),
    F (B, k, n) with v ~ S @ F. A sweep computes S^T v and v F^T once each (the costly part) and updates
    F INNER[0] times, S INNER[1] times against them.
    seed=None: deterministic NNDSVDa init (as scikit-learn's default); an int: random init.
    Each matrix stops on its own after `iters` sweeps, or earlier when its relative error falls by less
    than `tol` of its starting error per ten sweeps (scikit-learn's kind of rule), and leaves the batch."""
    v = v.float()
    B = v.shape[0]
    if seed is None:
        S, F = _nndsvda(v, k)
    else:
        g = torch.Generator().manual_seed(seed)
        scale = (v.mean(dim=(1, 2), keepdim=True) / k).sqrt()
        S = torch.rand(B, v.shape[1], k, generator=g) * scale
        F = torch.rand(B, k, v.shape[2], generator=g) * scale
    S_out, F_out = torch.empty_like(S), torch.empty_like(F)  # filled as each matrix finishes
    vv = v.flatten(1).norm(dim=1).square()  # (B,) ||v||^2
    live = torch.arange(B)  # matrices in the batch
    retired = torch.zeros(B, dtype=torch.bool)  # in the batch, but finished: their result is kept
    Sc = [S[:, :, j].contiguous() for j in range(k)]
    Fc = [F[:, j].contiguous() for j in range(k)]
    first = previous = None
    for sweep in range(1, iters + 1):
        S = torch.stack(Sc, 2)
        _hals(Fc, S.transpose(1, 2) @ v, S.transpose(1, 2) @ S, INNER[0])
        F = torch.stack(Fc, 1)
        A, G = v @ F.transpose(1, 2), F @ F.transpose(1, 2)  # (B, m, k), (B, k, k)
        _hals(Sc, A.transpose(1, 2), G, INNER[1])
        if tol <= 0 or (sweep % CHECK and sweep > 1):
            continue
        # ||v - S F||^2 = ||v||^2 - 2 <S, v F^T> + <S^T S, F F^T>: no reconstruction needed
        S = torch.stack(Sc, 2)
        err2 = vv[live] - 2 * (S * A).sum((1, 2)) + ((S.transpose(1, 2) @ S) * G).sum((1, 2))
        error = err2.clamp(min=0).sqrt() / vv[live].sqrt().clamp(min=EPS)
        if first is None:
            first = previous = error
            continue
        done = ~retired & ((previous - error) < tol * first * CHECK / 10)
        previous = error
        if done.any():  # keep the result now; drop the finished from the batch once a quarter is done
            S_out[live[done]], F_out[live[done]] = S[done], F[done]
            retired |= done
            if retired.all():
                break
            if retired.sum() * 4 >= len(live):
                keep = ~retired
                live, v, first, previous, retired = live[keep], v[keep], first[keep], previous[keep], retired[keep]
                Sc, Fc = [x[keep] for x in Sc], [x[keep] for x in Fc]
    else:
        keep = ~retired
        S_out[live[keep]], F_out[live[keep]] = torch.stack(Sc, 2)[keep], torch.stack(Fc, 1)[keep]
    return S_out, F_out


def relative_error(v: torch.Tensor, S: torch.Tensor, F: torch.Tensor) -> torch.Tensor:
    """Per-matrix ||v - S F|| / ||v||, (B,)."""
    return (v - S @ F).flatten(1).norm(dim=1) / v.flatten(1).norm(dim=1).clamp(min=EPS)


def _match_to_reference(F: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """For each neuron, the permutation of its k factors (B, k) that maximizes the summed cosine
    similarity of its channel factors F (B, k, n) with the reference's ref (k, n)."""
    k = ref.shape[0]
    Fn = F / F.norm(dim=2, keepdim=True).clamp(min=EPS)
    rn = ref / ref.norm(dim=1, keepdim=True).clamp(min=EPS)
    sim = Fn @ rn.T  # (B, k own, k ref)
    perms = torch.tensor(list(itertools.permutations(range(k))))  # (P, k): colour c <- own factor perm[c]
    totals = torch.stack([sim[:, p, torch.arange(k)].sum(1) for p in perms], dim=1)  # (B, P)
    return perms[totals.argmax(dim=1)]


@dataclass
class Reduction:
    """A layer reduced: everything the book shows of it comes from here (pictures, kernels, order, score).
    pictures (N, kh, kw, 3) in [0, 1], each neuron divided by its maximum (the RGB pictures);
    spatial (N, kh, kw, 3) and channels (N, 3, 2*in) the unscaled factors, colour-ordered;
    error (N,) relative reconstruction error per neuron. Get one with `reduction(w)` (cached)."""

    pictures: torch.Tensor
    spatial: torch.Tensor
    channels: torch.Tensor
    error: torch.Tensor

    @property
    def kernels(self) -> np.ndarray:
        """The pictures as kernels (N, 3, kh, kw), colours as input channels: what metrics scores."""
        return np.moveaxis(self.pictures.numpy(), -1, 1)

    @functools.cached_property
    def order(self) -> np.ndarray:
        """Display order of the neurons (order_by_similarity)."""
        return order_by_similarity(self.pictures.numpy())

    @functools.cached_property
    def score(self) -> metrics.Score:
        """The layer's banding score on these pictures (the book's NMF score)."""
        return metrics.score(self.kernels)

    def shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-neuron (row share, column share) of the pictures."""
        return metrics.band_shares(self.kernels)


def reduction(w) -> Reduction:
    """reduce_weight(w), remembered in memory and on disk (<results root>/_reductions/<key>.pt, the key a
    hash of the weight's bytes and VERSION), so that the book reduces no layer twice. A cache file that
    fails to load is recomputed and replaced. The scores step (banding_lib.scores) fills the cache."""
    w = torch.as_tensor(w).detach().float().cpu().contiguous()
    digest = hashlib.sha256(f"{VERSION} {tuple(w.shape)}".encode())
    digest.update(w.numpy().tobytes())
    key = digest.hexdigest()[:24]
    if key in _REDUCTIONS:
        return _REDUCTIONS[key]
    path = results.results_root() / "_reductions" / f"{key}.pt"
    try:
        red = Reduction(**results.load_torch(path, "cached reduction"))
    except (FileNotFoundError, results.CorruptResults, TypeError):
        red = reduce_weight(w)
        results.save_torch({f.name: getattr(red, f.name) for f in dataclasses.fields(red)}, path)
    _REDUCTIONS[key] = red
    return red


_REDUCTIONS: dict[str, Reduction] = {}


def reduce_weight(w: torch.Tensor, k: int = 3, iters: int = 200, seed: int | None = None,
                  consistent: bool = True) -> Reduction:
    """Reduce a conv weight (out, in, kh, kw) to per-neuron RGB pictures; see the module docstring.
    consistent=True orders each neuron's factors like a layer-wide reference NMF (fit on all neurons'
    channel factors stacked), so a colour means the same input-channel group across the layer."""
    w = torch.as_tensor(w).detach().float().cpu()
    v = sign_split(w)  # (out, kh*kw, 2*in)
    out, _, kh, kw = w.shape
    norms = v.flatten(1).norm(dim=1)
    if not torch.isfinite(w).all():
        raise ValueError("the weight holds NaN or Inf values; was the checkpoint trained to divergence?")
    if (norms == 0).all():
        raise ValueError("every kernel of this layer is zero: nothing to reduce (untrained or pruned layer?)")
    S, F = nmf(v, k, iters, seed)
    err = relative_error(v, S, F)
    # NMF fixes S @ F, not how a scale splits between S and F: put unit-norm channel factors in F so
    # the spatial factors (the pictures) carry the magnitude in weight units.
    norm = F.norm(dim=2, keepdim=True).clamp(min=EPS)  # (out, k, 1)
    S, F = S * norm.transpose(1, 2), F / norm
    if consistent:
        # Reference: NMF of every neuron's channel factors stacked, so its k components are the
        # input-channel groups the layer uses most; each neuron's factors are matched to them.
        # A random init (fixed seed) fits this one large matrix as well as NNDSVDa, without its big SVD.
        _, ref = nmf(F.reshape(1, -1, F.shape[2]), k, iters, 0 if seed is None else seed)  # ref (1, k, 2*in)
        perm = _match_to_reference(F, ref[0])  # (out, k)
        S = torch.gather(S, 2, perm[:, None, :].expand_as(S))
        F = torch.gather(F, 1, perm[:, :, None].expand_as(F))
        # The reference's own order is arbitrary too: order colours by their weight over the layer,
        # heaviest first (red, then green, then blue).
        order = S.norm(dim=1).sum(0).argsort(descending=True)  # (k,)
        S, F = S[:, :, order], F[:, order]
    spatial = S.reshape(out, kh, kw, k)
    peak = spatial.flatten(1).amax(dim=1).clamp(min=EPS)[:, None, None, None]
    return Reduction(pictures=(spatial / peak).clamp(0, 1), spatial=spatial, channels=F, error=err)


def order_by_similarity(pictures) -> np.ndarray:
    """Display order of neurons: leaves of an average-linkage clustering of the flattened pictures
    (cosine distance), so similar pictures sit side by side. Returns indices (N,)."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    x = np.asarray(pictures, dtype=np.float64).reshape(len(pictures), -1)
    if len(x) < 3:
        return np.arange(len(x))
    x = x - x.mean(axis=1, keepdims=True)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + EPS
    return leaves_list(linkage(x, method="average", metric="euclidean"))
