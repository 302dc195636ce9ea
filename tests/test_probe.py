"""The position probe: placements, the photo split, nets whose answer is known, a real smoke run, the cache."""
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn

from banding_lib import augment, config, data, models, probe, results, train

IN = 32  # canvas side of the hand-built nets


class CentreOfMass(nn.Module):
    """(B, 3, H, W) -> (B, 1, H, W), constant: the centre of mass along `axis` of how far each pixel is from
    the canvas (|x| summed over colours), in [-1, 1]. GAP of it is that coordinate, nothing else."""

    def __init__(self, axis):
        super().__init__()
        self.dim = 2 if axis == "y" else 3

    def forward(self, x):
        mass = x.abs().sum(1)  # (B, H, W)
        coord = torch.linspace(-1, 1, x.shape[self.dim])
        profile = mass.sum(2) if self.dim == 2 else mass.sum(1)  # (B, H) for y, (B, W) for x
        com = (profile * coord).sum(1) / profile.sum(1).clamp_min(1e-9)  # (B,)
        return com[:, None, None, None].expand(-1, 1, *x.shape[2:])


class MeanColour(nn.Module):
    """(B, 3, H, W) -> (B, 3, H, W), constant: each colour's mean, which ignores where the photo lies."""

    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x)


def tiny_run(tmp_path, block, channels):
    """A results.Run look-alike whose net is block5 = (block, identity) and a GAP head."""
    net = nn.Sequential(OrderedDict(block5=nn.Sequential(OrderedDict(a=block, b=nn.Identity())),
                                    head=models.GapHead(channels, IN, 10)))
    cfg = {"preset": "tiny", "seed": 0, "arch": "simplified", "model": {"in_size": IN}, "data": {"rotate90": False}}
    return SimpleNamespace(path=tmp_path / "tiny-run", config=cfg, metrics={"num_classes": 10}, model=lambda: net.eval())


@pytest.fixture(scope="module")
def photos():
    return data.synthetic_images(60, 32, seed=5)[0]  # uint8 (60, 3, 32, 32)


def test_place_puts_the_shrunk_photo_at_each_offset_on_a_mean_grey_canvas(photos):
    canvas = probe.place(photos[:2], IN, 3, "y", scale=0.5)  # (2, 3, 3, 32, 32)
    small = augment.augment(photos[:2], 16, train=False)
    assert canvas.shape == (2, 3, 3, IN, IN)
    for p, top in enumerate(probe.offsets(IN, 16, 3)):  # 0, 8, 16; centred on x at 8
        assert torch.equal(canvas[:, p, :, top:top + 16, 8:24], small)
        rest = canvas[:, p].clone()
        rest[:, :, top:top + 16, 8:24] = 0
        assert rest.abs().max() == 0  # elsewhere the mean colour, 0 after normalization


def test_place_rotates_the_photo_of_a_rotated_run_before_placing_it(photos):
    canvas = probe.place(photos[:2], IN, 3, "x", scale=0.5, rotate90=True)
    rotated = torch.rot90(augment.augment(photos[:2], 16, train=False), 1, dims=(-2, -1))
    assert torch.equal(canvas[:, 2, :, 8:24, 16:32], rotated)  # moved along the canvas's x, rotated content


def test_photo_halves_are_disjoint_and_cover_every_photo():
    train_idx, test_idx = probe.split_photos(61, seed=3)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    assert sorted(np.concatenate([train_idx, test_idx]).tolist()) == list(range(61))
    with pytest.raises(ValueError, match="overlap"):
        probe.fit_probe(np.zeros((4, 2, 1)), [0, 1], [1, 2])


def test_a_net_that_sees_vertical_position_is_probed_far_above_chance_on_y_only(tmp_path, photos):
    run = tiny_run(tmp_path, CentreOfMass("y"), 1)
    table = probe.probe(run, images=photos, cache=False, n_boot=200).set_index(["axis", "features"])
    for feats in probe.FEATURE_SETS:
        y, x = table.loc[("y", feats)], table.loc[("x", feats)]
        assert y.accuracy > 0.9 and y.lo > 0.5, y  # 5 positions: chance 0.2
        assert x.accuracy == pytest.approx(0.2, abs=0.05)  # the same feature at every x: no better than chance
        assert y.chance == 0.2 and y.lo <= y.accuracy <= y.hi


def test_a_net_whose_features_ignore_position_scores_chance(tmp_path, photos):
    run = tiny_run(tmp_path, MeanColour(), 3)
    table = probe.probe(run, images=photos, cache=False, n_boot=200)
    # the mean colour of the canvas is the same wherever the photo lies: every placement of a photo looks alike
    assert np.allclose(table.accuracy, 0.2, atol=0.05), table


def test_features_read_the_classifier_input_and_the_gaps_of_5a_and_5b():
    torch.manual_seed(0)
    net = models.simplified_net(10, width=0.125, in_size=32, pools=3, head="flatten").eval()
    x = torch.randn(3, 3, 32, 32)
    got = probe.features(net, x, batch_size=2)
    with torch.no_grad():
        a = net[:-1](x)  # (3, C, 4, 4): 5b's output
        a5 = net[:-2](x)
        a5 = net.block5.a(a5)
    assert got["head"].shape == (3, a.shape[1] * 16)
    np.testing.assert_allclose(got["head"], net.head.features(a).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["gap5b"], a.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["gap5a"], a5.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in net.modules())  # hooks removed


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """A real run: the smoke profile's rotated preset (synthetic scenes), 4 steps."""
    root = tmp_path_factory.mktemp("probe-results")
    cfg = config.resolve("rotated", "smoke", 0, steps=4)
    train.train(cfg, root, progress=False)
    return results.load_run(results.run_dir(cfg, root))


def test_initial_model_is_the_run_at_its_init(smoke_run):
    before = torch.random.get_rng_state()
    init = probe.initial_model(smoke_run)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's random state is left alone
    for layer, w in smoke_run.init.items():
        assert torch.equal(init.get_submodule(layer).conv.weight, w), layer


def test_probe_of_a_run_is_cached_and_read_back(smoke_run, monkeypatch):
    table = probe.probe(smoke_run, n_photos=40, n_boot=100)
    assert len(table) == 2 * len(probe.FEATURE_SETS) and set(table.axis) == {"y", "x"}
    assert table.accuracy.between(0, 1).all() and (table.lo <= table.accuracy).all() and (table.accuracy <= table.hi).all()
    assert (table.train_photos == 20).all() and (table.test_photos == 20).all()
    assert len(list((smoke_run.path.parent / "_probes").glob("*.pt"))) == 1

    def no_model():
        raise AssertionError("a cached probe must not rebuild the model")
    monkeypatch.setattr(smoke_run, "model", no_model)
    again = probe.probe(smoke_run, n_photos=40, n_boot=100)
    assert again.equals(table)
    init = probe.probe(smoke_run, n_photos=40, n_boot=100, weights="init")  # another key: computed, not read back
    assert (init.weights == "init").all()
    assert len(list((smoke_run.path.parent / "_probes").glob("*.pt"))) == 2
    assert probe.probe(smoke_run, n_photos=40, n_boot=100, weights="init").equals(init)  # read back too
