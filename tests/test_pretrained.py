"""Pretrained weights without a network: local checkpoints, the torch hub cache, the offline message; AlexNet's
fc6 by position; the conv scan."""
import shutil
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from banding_lib import pretrained
from banding_lib.architectures import torchvision_net
from banding_lib.pretrained import (CheckpointError, PretrainedUnavailable, cache_path, fc6_by_position, format_scan,
                                    load_pretrained, position_profile, scan, weights_for)

GOOGLENET_FILE = "googlenet-1378be20.pth"  # torchvision's GoogLeNet_Weights.IMAGENET1K_V1




@pytest.fixture(scope="module")
def googlenet_file(tmp_path_factory):
    """A random GoogLeNet state dict laid out like torchvision's ImageNet file (aux heads included), 52 MB:
    the smallest of the four architectures at its real shapes."""
    torch.manual_seed(0)
    model = torchvision.models.googlenet(aux_logits=True, transform_input=True, init_weights=False)
    path = tmp_path_factory.mktemp("ckpt") / GOOGLENET_FILE
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torch hub cache under tmp_path, and any download fails as it does without a network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path / "torch" / "hub" / "checkpoints"


def _same_weights(model: nn.Module, state: dict) -> None:
    ours = model.state_dict()
    assert not any(k.startswith("aux") for k in ours)  # dropped, as torchvision does without aux_logits
    assert set(ours) == {k for k in state if not k.startswith("aux")}
    for k, v in ours.items():
        assert torch.equal(v, state[k]), k


def test_local_checkpoint_gives_identical_weights(googlenet_file):
    model = load_pretrained("googlenet", checkpoint=googlenet_file)
    _same_weights(model, torch.load(googlenet_file, weights_only=True))
    assert not model.training
    assert model.transform_input  # as torchvision's googlenet(weights=...)
    assert all(t.device.type == "cpu" for t in [*model.parameters(), *model.buffers()])
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(1, 3, 64, 64))).all()


def test_wrapped_checkpoint_dict_is_unwrapped(googlenet_file):
    state = torch.load(googlenet_file, weights_only=True)
    wrapped = {"epoch": 3, "model": {f"module.{k}": v for k, v in state.items()}}  # DataParallel-style names
    _same_weights(load_pretrained("googlenet", checkpoint=wrapped), state)


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "resnet_small.pth"
    torch.save(nn.Conv2d(3, 8, 3).state_dict(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as err:
        load_pretrained("resnet50", checkpoint=path)
    assert str(path) in str(err.value)


def test_checkpoint_of_another_architecture_says_what_to_pass(googlenet_file):
    with pytest.raises(CheckpointError) as err:
        load_pretrained("alexnet", checkpoint=googlenet_file)
    message = str(err.value)
    assert str(googlenet_file) in message and "missing keys" in message
    assert "alexnet-owt-7be5be79.pth" in message  # the file that would fit


def test_checkpoint_with_wrong_shapes_is_a_clear_error(googlenet_file):
    state = torch.load(googlenet_file, weights_only=True)
    state["fc.weight"], state["fc.bias"] = torch.zeros(10, 1024), torch.zeros(10)  # 10 classes, not 1000
    with pytest.raises(CheckpointError, match="size mismatch for fc.weight"):
        load_pretrained("googlenet", checkpoint=state)


def test_offline_without_cache_names_file_url_and_cache_path(offline):
    with pytest.raises(PretrainedUnavailable) as err:
        load_pretrained("googlenet")
    message = str(err.value)
    assert str(offline / GOOGLENET_FILE) in message
    assert weights_for("googlenet").url in message
    assert "checkpoint=" in message
    assert isinstance(err.value, RuntimeError)


def test_offline_picks_up_a_cached_copy(offline, googlenet_file):
    assert cache_path(weights_for("googlenet")) == offline / GOOGLENET_FILE
    offline.mkdir(parents=True)
    (offline / GOOGLENET_FILE).symlink_to(googlenet_file)
    model = load_pretrained("googlenet")  # the download would raise: it must not be attempted
    _same_weights(model, torch.load(googlenet_file, weights_only=True))
    assert not model.training


def test_corrupt_cached_copy_is_named(offline):
    offline.mkdir(parents=True)
    (offline / GOOGLENET_FILE).write_bytes(b"PK\x03\x04 not a whole file")
    with pytest.raises(CheckpointError, match="Delete the file") as err:
        load_pretrained("googlenet")
    assert str(offline / GOOGLENET_FILE) in str(err.value)


@pytest.mark.parametrize("call, message", [
    (lambda: load_pretrained("inception"), "googlenet, resnet50, vgg19, alexnet"),
    (lambda: load_pretrained("vgg", checkpoint="x.pth"), "did you mean 'vgg19'"),
    (lambda: weights_for("resnet50", "IMAGENET1K_V3"), "IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT"),
])
def test_unknown_names_list_the_valid_ones(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_weights_names():
    assert weights_for("resnet50", "ResNet50_Weights.IMAGENET1K_V1").name == "IMAGENET1K_V1"
    assert weights_for("vgg19") is torchvision.models.VGG19_Weights.DEFAULT
    with pytest.raises(ValueError, match="not weights for googlenet"):
        weights_for("googlenet", torchvision.models.ResNet50_Weights.DEFAULT)


# --- fc6 by position ---

def test_fc6_of_torchvision_alexnet_is_256_by_6_by_6():
    with torch.device("meta"):
        model = torchvision.models.alexnet()
    assert fc6_by_position(model).shape == (4096, 256, 6, 6)


def test_fc6_by_position_matches_the_forward_pass():
    torch.manual_seed(0)
    model = torchvision_net("alexnet", 10, width=1 / 16).eval()  # torchvision's AlexNet class, 16 channels
    w = fc6_by_position(model)  # (256, 16, 6, 6)
    assert w.shape == (256, 16, 6, 6)
    model.features = nn.Identity()  # feed a chosen (1, 16, 6, 6) map through AlexNet.forward itself
    fc6_out = []
    model.classifier[1].register_forward_hook(lambda m, inp, out: fc6_out.append(out[0] - m.bias))
    with torch.no_grad():
        for c, y, x in [(0, 0, 0), (3, 1, 4), (15, 5, 2), (7, 4, 1)]:  # y != x tells rows from columns
            feature = torch.zeros(1, 16, 6, 6)
            feature[0, c, y, x] = 1.0
            model(feature)
            assert torch.allclose(fc6_out[-1], w[:, c, y, x], atol=1e-6), (c, y, x)
        feature = torch.randn(1, 16, 6, 6)
        model(feature)
        assert torch.allclose(fc6_out[-1], torch.einsum("ocyx,cyx->o", w, feature[0]), atol=1e-4)


def test_position_profile_is_energy_per_row():
    w = torch.randn(5, 4, 6, 6)
    expected = torch.stack([(w[:, :, y, :] ** 2).sum(dim=(1, 2)) for y in range(6)], dim=1)  # (5, 6)
    assert torch.allclose(position_profile(w), expected)
    only_row_2 = torch.zeros(3, 4, 6, 6)
    only_row_2[:, :, 2, :] = 1.0
    assert position_profile(only_row_2).argmax(dim=1).tolist() == [2, 2, 2]


# --- scan ---

def test_scan_reports_every_conv_larger_than_1x1():
    torch.manual_seed(0)
    model = torchvision_net("googlenet", 10, width=1 / 16, in_size=32)
    rows = scan(model)
    expected = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert [r["name"] for r in rows] == expected and len(rows) == 2 + 9 * 2  # stem 7x7 and 3x3, two 3x3 per block
    for r in rows:
        assert 0 <= r["row"] <= 1 and 0 <= r["col"] <= 1 and r["row"] + r["col"] <= 1 + 1e-9
        assert r["shape"] == "x".join(map(str, model.get_submodule(r["name"]).weight.shape))
    assert rows[0]["null"] == pytest.approx(6 / 48) and rows[-1]["null"] == pytest.approx(0.25)


def test_scan_finds_horizontal_bands():
    model = nn.Sequential(nn.Conv2d(2, 4, 5), nn.Conv2d(4, 3, 1), nn.Conv2d(3, 3, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(4, 2, 5, 1).expand(4, 2, 5, 5))  # constant along x: horizontal bands
    rows = scan(model)
    assert [r["name"] for r in rows] == ["0", "2"]
    assert rows[0]["row"] == pytest.approx(1.0) and rows[0]["col"] == pytest.approx(0.0, abs=1e-9)
    assert 0.05 < rows[1]["row"] < 0.95  # random init: no bands


def test_format_scan_is_an_aligned_table():
    rows = [{"name": "features.0", "shape": "64x3x11x11", "row": 0.5, "col": 0.25, "null": 0.1},
            {"name": "features.10", "shape": "256x256x3x3", "row": float("nan"), "col": 0.3, "null": 0.25}]
    lines = format_scan(rows).splitlines()
    assert len(lines) == 3 and lines[0].split() == ["layer", "shape", "row", "col", "null"]
    assert len({len(line) for line in lines}) == 1  # every column lines up
    assert lines[2].split() == ["features.10", "256x256x3x3", "nan", "0.30", "0.25"]
