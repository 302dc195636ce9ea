"""torchvision architectures with interventions: tiny builds train, the article's layers resolve, "flatten"
really removes global pooling, width=1 is torchvision's layout."""
import pytest
import torch
import torchvision
from torch import nn

from banding_lib import architectures
from banding_lib.config import ARCHITECTURES, RUNS
from banding_lib.architectures import ARCHS, last_map_shape, torchvision_net
from banding_lib.layers import ARTICLE, get_layer, layer_weight

TINY = dict(num_classes=10, width=1 / 16, in_size=64)




def _first_linear(model: nn.Module) -> nn.Linear:
    return next(m for m in model.modules() if isinstance(m, nn.Linear))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_preset_trains_one_step(name):
    torch.manual_seed(0)
    preset = RUNS[name]
    model = torchvision_net(preset["arch"], 10, width=1 / 16, head=preset["model"]["head"], in_size=32).train()
    x = torch.randn(4, 3, 32, 32)
    if preset["data"]["rotate90"]:
        x = torch.rot90(x, 1, dims=(2, 3))  # (N, C, H, W): rotate in the image plane
    y = torch.tensor([0, 3, 5, 9])
    watched = ARTICLE[preset["arch"]].drawn
    before = {n: layer_weight(model, n).clone() for n in watched}
    head_before = _first_linear(model).weight.detach().clone()

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()

    assert torch.isfinite(loss)
    for n in watched:
        assert not torch.equal(before[n], layer_weight(model, n)), f"{n} did not change"
    assert not torch.equal(head_before, _first_linear(model).weight)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_article_layers_resolve(arch, head):
    """Every layer of the table (layers.ARTICLE) is a conv of torchvision's net with the table's kernel."""
    model = torchvision_net(arch, head=head, **TINY)
    layer = ARTICLE[arch]
    for name in (layer.path, layer.panel) + ((layer.typical,) if layer.typical else ()):
        assert layer_weight(model, name).shape[-2:] == (layer.kernel, layer.kernel)
    assert layer.kernel == 3  # torchvision's googlenet too: 3x3 where the original InceptionV1 has 5x5


def test_one_table_of_the_article_layers():
    assert tuple(ARTICLE) == ARCHS
    assert ARTICLE["vgg19"].drawn == ("features.32", "features.34")  # the model zoo's conv5_3, then conv5_4
    assert ARTICLE["googlenet"].drawn == ("inception5b.branch3.1",)
    from banding_lib import article, networks, panels

    assert article.ARCH_LAYERS == {"googlenet": ("9", "inception5b.branch3.1"), "resnet50": ("10", "layer4.2.conv2"),
                                   "vgg19": ("11", "features.34")}
    assert networks.NETWORKS["googlenet"].load()[1] == ("inception5b.branch3.1", "inception3a.branch3.1")
    assert {k for k in panels.PANELS if k[0].endswith("_pretrained")} == {
        ("googlenet_pretrained", "inception5b.branch3.1"), ("resnet50_pretrained", "layer4.2.conv2"),
        ("vgg19_pretrained", "features.32"), ("alexnet_pretrained", "features.10")}


@pytest.mark.parametrize("arch", ARCHS)
def test_flatten_removes_global_pooling(arch):
    size = 128 if arch == "alexnet" else 64  # a last map of 2x2 at least (AlexNet: 3x3), so pooling matters
    seen = {}
    for head in ("gap", "flatten"):
        model = torchvision_net(arch, 10, width=1 / 16, head=head, in_size=size).eval()
        hook = model.avgpool.register_forward_hook(lambda m, inp, out: seen.update({head: (inp[0].shape, out.shape)}))
        with torch.no_grad():
            model(torch.zeros(2, 3, size, size))
        hook.remove()
        (n, c, h, w), pooled = seen[head]
        assert h * w > 1
        assert (c, h, w) == last_map_shape(model, size)
        if head == "flatten":
            assert pooled == (n, c, h, w)
            assert _first_linear(model).in_features == c * h * w
        elif arch == "alexnet":  # torchvision's AdaptiveAvgPool2d(6), kept as is
            assert _first_linear(model).in_features == c * 36
        else:
            assert pooled == (n, c, 1, 1)
            assert _first_linear(model).in_features == c


@pytest.mark.parametrize("arch, head, reference", [
    ("googlenet", "gap", lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True)),
    ("resnet50", "gap", torchvision.models.resnet50),
    ("vgg19", "flatten", torchvision.models.vgg19),  # torchvision's VGG does not pool at 224 px
    ("alexnet", "gap", torchvision.models.alexnet),
])
def test_width_one_is_torchvisions_layout(arch, head, reference):
    with torch.device("meta"):  # shapes only: no memory, no init
        ours, theirs = torchvision_net(arch, head=head), reference()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def test_vgg19_baseline_pools_globally_at_full_width():
    with torch.device("meta"):
        model = torchvision_net("vgg19")
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d) and model.avgpool.output_size == 1
    assert model.classifier[0].in_features == 512  # torchvision's is 512 * 7 * 7


@pytest.mark.parametrize("width", [0.1, 0.15])  # widths where round(w * sum) != sum of round(w * branch)
def test_googlenet_odd_widths_chain_rounded_branches(width):
    model = torchvision_net("googlenet", 10, width=width, in_size=32).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    block = model.inception5b
    branch_out = sum(b[-1].conv.out_channels if isinstance(b, nn.Sequential) else b.conv.out_channels
                     for b in (block.branch1, block.branch2, block.branch3, block.branch4))
    assert model.fc.in_features == branch_out
    assert model.conv1.conv.in_channels == 3


@pytest.mark.parametrize("arch", ARCHS)
def test_no_parameter_is_left_on_the_meta_device(arch):  # VGG19 and AlexNet are built on meta, then replaced
    model = torchvision_net(arch, 10, width=1 / 16, in_size=128)
    assert all(t.device.type == "cpu" for t in [*model.parameters(), *model.buffers()])


def test_vgg19_is_scaled_but_rgb_is_not():
    model = torchvision_net("vgg19", **TINY)
    assert get_layer(model, "features.34").out_channels == 32  # 512 / 16
    assert model.classifier[3].in_features == 256  # 4096 / 16
    assert layer_weight(model, "features.0").shape[1] == 3  # the RGB input is not scaled


@pytest.mark.parametrize("bad, message", [
    (dict(arch="inceptionv1"), "googlenet"),
    (dict(arch="resnet5"), "did you mean 'resnet50'"),
    (dict(arch="googlenet", head="gapp"), "did you mean 'gap'"),
    (dict(arch="vgg19", head="max"), "gap, flatten"),
])
def test_unknown_names_list_the_valid_ones(bad, message):
    with pytest.raises(ValueError, match=message):
        torchvision_net(**bad)


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot take 16x16"):
        torchvision_net("alexnet", width=1 / 16, head="flatten", in_size=16)


@pytest.mark.parametrize("arch, side", [("googlenet", 4), ("resnet50", 4), ("vgg19", 3)])
def test_stem_pool_false_doubles_the_last_map(arch, side):
    base = architectures.last_map_shape(architectures.torchvision_net(arch, 10, width=0.0625, in_size=56), 56)
    model = architectures.torchvision_net(arch, 10, width=0.0625, in_size=56, stem_pool=False)
    assert architectures.last_map_shape(model, 56)[1:] == (side, side) and base[1] < side
    model.get_submodule(ARTICLE[arch].path)  # module paths unchanged
    assert model(torch.randn(2, 3, 56, 56)).shape == (2, 10)


def test_vgg19_batch_norm_keeps_the_article_layer_paths():
    plain = torchvision_net("vgg19", 10, width=0.0625, in_size=56, stem_pool=False)
    bn = torchvision_net("vgg19", 10, width=0.0625, in_size=56, stem_pool=False, batch_norm=True)
    for path in ("features.32", "features.34"):
        assert isinstance(bn.get_submodule(path), nn.Conv2d)
        assert bn.get_submodule(path).weight.shape == plain.get_submodule(path).weight.shape
    norms = [m for m in bn.features.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 16 and not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert bn(torch.randn(2, 3, 56, 56)).shape == (2, 10)
    with pytest.raises(ValueError, match="vgg19 only"):
        torchvision_net("resnet50", 10, width=0.0625, batch_norm=True)
