import pytest
import torch
from torch import nn

from banding_lib import layers


def tiny():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.Conv2d(4, 5, 5), nn.BatchNorm2d(5)), nn.Flatten(), nn.Linear(5, 2))


def test_layers_by_module_path():
    m = tiny()
    assert layers.get_layer(m, "1.0") is m[1][0]
    assert layers.layer_weight(m, "1").shape == (5, 4, 5, 5)  # a container holding one conv
    assert layers.conv_names(m) == ["0", "1.0", "3"]


def test_unknown_layer_lists_close_names():
    from banding_lib.models import simplified_net

    net = simplified_net(10, width=0.125, in_size=32, pools=3)
    with pytest.raises(layers.UnknownLayerError) as err:
        layers.get_layer(net, "block5.c")
    assert "block5.b" in str(err.value) and "block5.a" in str(err.value)
    assert layers.layer_weight(net, "block5.b").shape[-2:] == (5, 5)
