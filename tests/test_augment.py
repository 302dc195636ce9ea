"""Tests for banding_lib.augment: the rotation intervention really rotates, a rotated run sees the baseline's
images rotated, and the augmentation's shapes and flips."""
import pytest
import torch

from banding_lib import data
from banding_lib.augment import augment


def test_rotate90_really_rotates():
    x = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    x[:, :, 0, :] = 255  # a bright top row
    for train in (False, True):
        out = augment(x, train=train, rotate90=True, crop_scale=(1, 1), hflip=False)
        bright = out[0, 0] > 0
        assert bright[:, 0].all() and not bright[:, 1:].any()  # it is now the left column
    plain = augment(x, train=False)
    assert (plain[0, 0, 0] > 0).all() and not (plain[0, 0, 1:] > 0).any()


def test_rotated_run_sees_the_baseline_images_rotated():
    x, _ = data.synthetic_images(8, size=24, seed=2)
    plain = augment(x, 20, train=True, generator=torch.Generator().manual_seed(5))
    turned = augment(x, 20, train=True, rotate90=True, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(turned, torch.rot90(plain, 1, dims=(-2, -1)))  # flips stay along the photo's x


def test_augment_shapes_and_interventions():
    g = torch.Generator().manual_seed(0)
    x, y = data.synthetic_images(16, size=24, seed=1)
    assert x.shape == (16, 3, 24, 24) and x.dtype == torch.uint8 and y.max() < 10
    assert x[:, :, :4].float().mean() > x[:, :, -4:].float().mean() + 30  # sky above ground
    out = augment(x, 20, train=True, generator=g)
    assert out.shape == (16, 3, 20, 20) and out.dtype == torch.float32
    ident = augment(x, train=True, crop_scale=(1, 1), hflip=False)
    assert torch.allclose(ident, augment(x, train=False), atol=1e-4)  # no-op affine is exact
    flipped = augment(x, train=True, crop_scale=(1, 1), hflip=False, vflip=True,
                           generator=torch.Generator().manual_seed(3))
    upside_down = augment(x.flip(-2), train=False)
    same = [torch.allclose(flipped[i], ident[i], atol=1e-4) for i in range(16)]
    flip = [torch.allclose(flipped[i], upside_down[i], atol=1e-4) for i in range(16)]
    assert all(a or b for a, b in zip(same, flip)) and 3 <= sum(flip) <= 13
    with pytest.raises(ValueError, match="uint8"):
        augment(x.float(), train=False)
