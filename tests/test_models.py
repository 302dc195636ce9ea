"""Tests for banding_lib.models: shapes of the article's network, presets, and the head interventions."""
import math

import pytest
import torch

from banding_lib import layers, models
from banding_lib.config import RUNS, SIMPLIFIED

TINY = dict(width=0.125, in_size=32, pools=3)  # 5b has 64 channels on a 4x4 map


def convs(model) -> list[str]:
    """Module paths of the net's convs in forward order ("block0.a.conv", ...): its conv/linear layers less the head."""
    return [name for name in layers.conv_names(model) if not name.startswith("head.")]


def test_full_scale_matches_article_diagram():
    torch.manual_seed(0)
    model = models.simplified_net(1001).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1001)
    assert model.get_submodule("block5.b").conv.weight.shape == (512, 512, 5, 5)
    assert model.get_submodule("block0.a").conv.weight.shape == (32, 3, 7, 7)
    assert model.final_size == 7
    names = convs(model)
    # 0a, 1a, 2a, 3a-b, 4a-e, 5a-b: 12 convs, as in the article's Network_Architecture.svg.
    assert len(names) == 12
    assert names[0] == "block0.a.conv" and names[-3:] == [f"{n}.conv" for n in models.LAST_LAYERS]
    sizes = {row["name"]: row["size"] for row in models.describe(model)}
    assert (sizes["block0.a"], sizes["block1.a"], sizes["block3.b"], sizes["block4.e"], sizes["block5.b"]) == (
        224, 112, 28, 14, 7)


def test_width_and_dropped_pools():
    model = models.simplified_net(10, width=0.25, in_size=64, pools=3)
    outs = [model.get_submodule(n).out_channels for n in convs(model)]
    assert outs == [8, 16, 16, 32, 32] + [64] * 5 + [128, 128]
    # The first three pools are kept: 64 -> 32 -> 16 -> 8, and groups 3..5 all run on 8x8.
    rows = {row["name"]: row for row in models.describe(model)}
    assert [n for n in rows if n.startswith("pool")] == ["pool1", "pool2", "pool3"]
    assert rows["block3.a"]["size"] == rows["block5.b"]["size"] == model.final_size == 8
    assert rows["head"]["in_channels"] == 128


def test_l2_pool_is_root_mean_square_and_halves_with_ceil():
    x = torch.full((2, 3, 7, 7), -2.0)
    y = models.L2Pool()(x)
    assert y.shape == (2, 3, 4, 4)
    torch.testing.assert_close(y, torch.full_like(y, 2.0), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", SIMPLIFIED)
def test_every_preset_trains_one_step(name):
    torch.manual_seed(0)
    model = models.simplified_net(10, **{**RUNS[name]["model"], **TINY})
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    logits = model(x)
    assert logits.shape == (4, 10)
    loss = torch.nn.functional.cross_entropy(logits, y)
    assert torch.isfinite(loss)
    loss.backward()
    opt.step()
    unwired = [n for n, p in model.named_parameters() if p.grad is None]
    assert unwired == []  # every parameter is wired into the loss
    # and moved, but for the attention scores' bias: softmax over positions ignores a constant shift
    unchanged = [n for n, p in model.named_parameters() if torch.equal(p, before[n]) and n != "head.score.bias"]
    assert unchanged == []


def test_coordconv_adds_two_inputs_to_5a_and_5b_only():
    plain = models.simplified_net(10, **TINY)
    coord = models.simplified_net(10, coordconv=True, **TINY)
    for name in convs(plain):
        extra = coord.get_submodule(name).in_channels - plain.get_submodule(name).in_channels
        assert extra == (2 if name in ("block5.a.conv", "block5.b.conv") else 0), name


def test_coord_channels_run_along_x_then_y():
    grid = models.coord_channels(torch.zeros(1, 5, 3, 4))  # H=3, W=4
    assert grid.shape == (1, 2, 3, 4)
    torch.testing.assert_close(grid[0, 0, 0], torch.linspace(-1, 1, 4))  # x varies along W
    torch.testing.assert_close(grid[0, 1, :, 0], torch.linspace(-1, 1, 3))  # y varies along H


def test_init_scale_scales_conv_weights():
    torch.manual_seed(0)
    ref = models.simplified_net(10, **TINY)
    torch.manual_seed(0)
    small = models.simplified_net(10, init_scale=0.1, **TINY)
    assert small.init_scale == 0.1
    for name in convs(ref):
        ratio = small.get_submodule(name).weight.std() / ref.get_submodule(name).weight.std()
        assert math.isclose(ratio.item(), 0.1, rel_tol=1e-4), name


def _blob_map(c=64, s=4):
    """A (1, C, S, S) map with a different feature at (y=1, x=1) and (y=2, x=0) in every channel."""
    torch.manual_seed(0)
    m = torch.zeros(1, c, s, s)
    m[0, :, 1, 1] = torch.rand(c) + 1
    m[0, :, 2, 0] = torch.rand(c) + 1
    return m


def _features_after_shifts(head_name):
    head = models.simplified_net(10, head=head_name, **TINY).head.eval()
    m = _blob_map()
    with torch.no_grad():
        base = head.features(m)
        along_x = head.features(torch.roll(m, 1, dims=3))
        along_y = head.features(torch.roll(m, 1, dims=2))
    return base, along_x, along_y


def test_x_head_keeps_y_and_discards_x():
    base, along_x, along_y = _features_after_shifts("x")
    assert base.shape == (1, 64 * 4)
    torch.testing.assert_close(along_x, base)
    assert not torch.allclose(along_y, base)


def test_gap_head_discards_both_axes_and_xy_head_keeps_both():
    base, along_x, along_y = _features_after_shifts("gap")
    torch.testing.assert_close(along_x, base)
    torch.testing.assert_close(along_y, base)
    base, along_x, along_y = _features_after_shifts("xy")
    assert base.shape == (1, 2 * 64 * 4)
    assert not torch.allclose(along_x, base) and not torch.allclose(along_y, base)


def test_mask_full_starts_as_gap():
    gap = models.simplified_net(10, head="gap", **TINY).head
    full = models.simplified_net(10, head="mask_full", **TINY).head
    m = _blob_map()
    torch.testing.assert_close(full.features(m), gap.features(m))


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown head 'nope'.*gap.*flatten.*maxpool_fc"):
        models.simplified_net(10, head="nope", **TINY)


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=0), "width"),
    (dict(pools=6), "pools"),
    (dict(in_size=16, pools=5), "in_size"),
    (dict(head="groups", width=0.1), "not divisible"),  # 5b has 51 channels
    (dict(init_scale=0), "init_scale"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.simplified_net(10, **{**TINY, **kwargs})


def test_layer_table_keywords_drop_groups_and_set_kernels():
    model = models.simplified_net(10, width=0.25, in_size=56, pools=3, blocks=("block0", "block1", "block2", "block5"),
                                  kernels=(7, 3, 3, 3, 3, 3))
    rows = {row["name"]: row for row in models.describe(model)}
    assert [n for n in rows if n.startswith("block")] == ["block0.a", "block1.a", "block2.a", "block5.a", "block5.b"]
    assert rows["block0.a"]["kernel"] == 7 and rows["block5.b"]["kernel"] == 3
    assert model.final_size == rows["block5.b"]["size"] == 7  # 56 -> 28 -> 14 -> 7, one pool before each kept group
    assert model.config["blocks"] == ["block0", "block1", "block2", "block5"]
    assert model(torch.randn(2, 3, 56, 56)).shape == (2, 10)


@pytest.mark.parametrize("bad, message", [
    (dict(blocks=("block1", "block5")), "block0"),
    (dict(blocks=("block0", "block9", "block5")), "blocks"),
    (dict(kernels=(7, 5)), "kernels"),
    (dict(kernels=(7, 4, 5, 5, 5, 5)), "odd"),
    (dict(blocks=("block0", "block5"), pools=3), "pools=3"),
])
def test_bad_layer_table_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        models.simplified_net(10, **{**TINY, **bad})


@pytest.mark.parametrize("head", ["flatten", "x", "xy"])
def test_position_keeping_heads_move_as_fast_as_gap(head):
    """Their FC inputs are scaled so that an SGD step changes the logits about as much as GAP's does."""
    x = torch.rand(64, 16, 7, 7) + 0.5  # post-ReLU-like, positive

    def logit_step(kind):
        torch.manual_seed(0)
        h = models.make_head(kind, 16, 7, 10, n_masks=3, groups=4, hidden=32)
        feats = h.features(x)
        return (feats ** 2).sum(1).mean().item()  # d logit for a unit gradient step on the FC weights

    assert 0.5 < logit_step(head) / logit_step("gap") < 2.5


def test_sigmoid_masks_lie_in_zero_one_and_start_at_half_of_gap():
    from banding_lib.models import MasksHead

    torch.manual_seed(0)
    head = MasksHead(8, 4, 10, n_masks=3, gate="sigmoid")
    w = head.weights()
    assert w.shape == (3, 4, 4) and bool((w > 0).all() and (w < 1).all()) and abs(float(w.mean()) - 0.5) < 0.01
    head.masks.data.fill_(50.0)  # saturated: each mask is GAP itself
    x = torch.rand(2, 8, 4, 4)
    assert torch.allclose(head.features(x), x.mean(dim=(2, 3)).repeat_interleave(3, dim=1), atol=1e-5)
    with pytest.raises(ValueError, match="unknown mask_gate"):
        MasksHead(8, 4, 10, n_masks=3, gate="softmax")


def test_y_pool_is_the_mirror_of_x_pool():
    from banding_lib.models import XPoolHead, YPoolHead

    x, y = XPoolHead(4, 3, 5), YPoolHead(4, 3, 5)
    t = torch.rand(2, 4, 3, 3)
    assert torch.allclose(x.features(t), y.features(t.transpose(2, 3)))


@pytest.mark.parametrize("head", list(models.HEADS))
def test_every_head_of_the_table_builds_and_describes_itself(head):
    """One table (models.HEADS) builds each head and labels it in the architecture diagram; every run's head is in it."""
    model = models.simplified_net(10, head=head, groups=8, **TINY)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert models.describe(model)[-1]["pooling"] == models.HEADS[head].pooling
    assert {RUNS[p]["model"]["head"] for p in SIMPLIFIED} <= set(models.HEADS)


def test_the_diagram_says_what_each_head_pools():
    words = {h: models.describe(models.simplified_net(10, head=h, groups=8, **TINY))[-1]["pooling"]
             for h in ("gap", "x", "xy", "groups")}
    assert words == {"gap": "global average pool", "x": "average over x", "xy": "average over x and over y",
                     "groups": "an FC per channel group over every position (no pooling)"}
    with pytest.raises(ValueError, match="valid heads: gap, flatten"):
        models.make_head("avg", 16, 4, 10, n_masks=3, groups=4, hidden=32)
