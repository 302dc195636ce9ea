import numpy as np
import pytest
import torch

from banding_lib import metrics
from conftest import banded_layer


def test_horizontal_bands_score_rows():
    s = metrics.score(banded_layer(noise=0.0))
    assert s.row == pytest.approx(1.0, abs=1e-9) and s.col == pytest.approx(0.0, abs=1e-9)


def test_rotation_swaps_rows_and_columns():
    w = banded_layer(noise=0.1)
    a, b = metrics.score(w), metrics.score(torch.rot90(w, 1, dims=(-2, -1)))
    assert a.row > 0.9 and a.col < 0.1
    assert b.row == pytest.approx(a.col) and b.col == pytest.approx(a.row)


@pytest.mark.parametrize("k", [3, 5, 7])
def test_gaussian_noise_scores_the_null(k):
    w = torch.randn(2000, 4, k, k, generator=torch.Generator().manual_seed(k))
    s = metrics.score(w)
    null = (k - 1) / (k * k - 1)
    assert metrics.null_share(k) == pytest.approx(null)
    assert s.row == pytest.approx(null, abs=0.01) and s.col == pytest.approx(null, abs=0.01)
    assert s.row_lo < null < s.row_hi or abs(s.row - null) < 0.005


def test_hand_computed_shares():
    k = np.array([[1.0, 1.0], [3.0, 5.0]])  # mean 2.5; rows 1, 4; cols 2, 3
    rows, cols, total = metrics.sums_of_squares(k[None, None])
    assert total[0] == pytest.approx(2.25 + 2.25 + 0.25 + 6.25)
    assert rows[0] == pytest.approx(2 * (1.5 ** 2 + 1.5 ** 2))
    assert cols[0] == pytest.approx(2 * (0.5 ** 2 + 0.5 ** 2))


def test_init_is_subtracted_and_pictures_are_colour_last():
    init = torch.randn(64, 8, 5, 5)
    w = init + banded_layer(out=64, noise=0.0)
    assert metrics.score(w, init).row == pytest.approx(1.0)
    assert metrics.score(w).row < 0.99
    pics = banded_layer(out=10, cin=3, noise=0.0).permute(0, 2, 3, 1)  # (N, kh, kw, 3)
    assert metrics.score(pics.permute(0, 3, 1, 2)).row == pytest.approx(1.0)
    with pytest.raises(ValueError, match="does not match"):
        metrics.score(w, init[:3])


def test_bootstrap_ci_brackets_mean_and_constant_layer_errors():
    s = metrics.score(banded_layer(noise=0.5))
    assert s.row_lo <= s.row <= s.row_hi and s.col_lo <= s.col <= s.col_hi
    with pytest.raises(ValueError, match="constant"):
        metrics.score(torch.ones(4, 2, 3, 3))


def test_mirror_shares_and_their_nulls_match_simulated_noise():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((20000, 1, 5, 5))
    ref = metrics.mirror_null(5)
    assert metrics.mirror_shares(noise).mean() == pytest.approx(ref["mirror"], abs=0.005)  # 14/24
    sym = (noise + noise[..., ::-1]) / 2
    assert np.allclose(metrics.mirror_shares(sym), 1.0)
    rows, cols = metrics.band_shares(sym)
    assert rows.mean() == pytest.approx(ref["row"], abs=0.005) and cols.mean() == pytest.approx(ref["col"], abs=0.005)
    assert (ref["row"], ref["col"]) == pytest.approx((4 / 14, 2 / 14))
    anti = (noise - noise[..., ::-1]) / 2  # odd kernels: no symmetric part at all
    assert np.allclose(metrics.mirror_shares(anti), 0.0)
