import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import NMF

from banding_lib import metrics, reduce
from conftest import banded_layer


def structured_layer(out=24, cin=16, k=5, seed=0, banded=False):
    """Kernels whose sign-split matrix is exactly rank 3 and non-negative: three fixed, disjoint groups
    of signed input channels (shared by every neuron), each with its own spatial pattern per neuron
    (horizontal bands when banded=True)."""
    g = torch.Generator().manual_seed(seed)
    spatial = torch.rand(out, k, 1 if banded else k, 3, generator=g)
    spatial[:, :3, 0, :] = torch.eye(3)  # a "pure" row or pixel per factor makes the NMF unique
    spatial = spatial.expand(out, k, k, 3).reshape(out, k * k, 3)
    group = torch.arange(cin) % 3  # channel c belongs to group c % 3
    sign = torch.where(torch.arange(cin) % 2 == 0, 1.0, -1.0)  # and is used with one sign only
    strength = (torch.rand(cin, generator=g) + 0.5) * (3.0 - group)  # group 0 weighs most (red)
    chans = torch.zeros(3, cin)
    chans[group, torch.arange(cin)] = strength * sign  # (3, cin) signed channel loadings
    w = spatial @ chans  # (out, k*k, cin)
    return w.transpose(1, 2).reshape(out, cin, k, k)


def test_sign_split_layout():
    w = torch.tensor([[[[1.0, -2.0]]]])  # (1, 1, 1, 2)
    v = reduce.sign_split(w)
    assert v.shape == (1, 2, 2)
    assert v[0].tolist() == [[1.0, 0.0], [0.0, 2.0]]  # rows: positions; columns: +channel, -channel


def test_shapes_ranges_and_reconstruction():
    w = structured_layer()
    r = reduce.reduce_weight(w)
    assert r.pictures.shape == (24, 5, 5, 3) and r.channels.shape == (24, 3, 32)
    assert r.pictures.min() >= 0 and r.pictures.max() <= 1
    assert torch.allclose(r.pictures.flatten(1).amax(1), torch.ones(24))
    # a rank-3 non-negative input is nearly recovered; random weights are not (stated error)
    assert r.error.mean() < 0.01
    v = reduce.sign_split(w)
    assert torch.allclose(reduce.relative_error(v, r.spatial.reshape(24, 25, 3), r.channels), r.error, atol=1e-4)


@pytest.mark.parametrize("make", [structured_layer, lambda: torch.randn(12, 32, 5, 5, generator=torch.Generator().manual_seed(3))])
def test_matches_scikit_learn(make):
    w = make()
    v = reduce.sign_split(w)
    S, F = reduce.nmf(v, 3)
    ours = reduce.relative_error(v, S, F).numpy()
    theirs = []
    warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning on the random layer
    for m in v.numpy().astype(np.float64):
        model = NMF(3, init="nndsvda", max_iter=500)
        s = model.fit_transform(m)
        theirs.append(np.linalg.norm(m - s @ model.components_) / np.linalg.norm(m))
    theirs = np.array(theirs)
    # relative errors: within 3 % of scikit-learn's per layer (+0.5 % of the norm for near-exact fits)
    assert ours.mean() <= theirs.mean() * 1.03 + 0.005
    assert np.all(ours <= theirs * 1.10 + 0.01)  # and no neuron far off


def test_colours_are_consistent_and_stable():
    w = structured_layer(out=32, banded=True)
    a = reduce.reduce_weight(w, seed=0)
    b = reduce.reduce_weight(w, seed=1)  # another random init: factors come out in another order
    # the same colour stands for the same channel group in every neuron ...
    group_of_colour = (a.channels[:, :, :16].abs() + a.channels[:, :, 16:].abs())  # (N, 3, cin)
    owner = torch.stack([group_of_colour[:, :, torch.arange(16) % 3 == j].sum(2) for j in range(3)], 2).argmax(2)
    assert (owner == torch.tensor([0, 1, 2])).float().mean() > 0.95  # red = heaviest group, etc.
    # ... and two runs give the same pictures (but for the odd neuron whose random init ends in
    # another local optimum of the NMF itself)
    per_neuron = (a.pictures - b.pictures).abs().mean((1, 2, 3))
    assert (per_neuron < 0.01).float().mean() > 0.85
    # without the heuristic the order follows the init, and the colours differ between runs
    c = reduce.reduce_weight(w, seed=0, consistent=False).pictures
    d = reduce.reduce_weight(w, seed=1, consistent=False).pictures
    assert (c - d).abs().mean() > 0.1


def test_banded_layer_pictures_are_banded():
    r = reduce.reduce_weight(banded_layer(out=32, noise=0.05))
    assert r.score.row > 0.9 and metrics.score(r.kernels).row == r.score.row


def test_order_by_similarity_groups_alike_pictures():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(5, 5, 3, generator=g), torch.rand(5, 5, 3, generator=g)
    pics = torch.stack([a, b, a + 0.01, b + 0.01, a + 0.02, b + 0.02])
    order = list(reduce.order_by_similarity(pics.numpy()))
    assert sorted(order) == list(range(6))
    groups = [i % 2 for i in order]
    assert groups in ([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="out, in, kh, kw"):
        reduce.reduce_weight(torch.zeros(4, 5, 5))
    with pytest.raises(ValueError, match="zero"):
        reduce.reduce_weight(torch.zeros(4, 2, 3, 3))


def test_each_matrix_stops_on_its_own():
    """Early stopping is per matrix: a neuron's factors do not depend on which neurons share its batch."""
    g = torch.Generator().manual_seed(5)
    v = reduce.sign_split(torch.cat([structured_layer(out=6), torch.randn(6, 16, 5, 5, generator=g)]))
    S, F = reduce.nmf(v, 3)
    for i in (0, 7):
        Si, Fi = reduce.nmf(v[i:i + 1], 3)
        assert torch.allclose(S[i] @ F[i], Si[0] @ Fi[0], atol=1e-4 * float(v[i].norm()))
    # the structured (rank-3) neurons converge long before the random ones: fewer sweeps, same answer
    assert reduce.relative_error(v[:6], S[:6], F[:6]).max() < 0.01
