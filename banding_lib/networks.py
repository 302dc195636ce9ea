"""The networks a run can train, by config["arch"] (NETWORKS: the simplified net and torchvision's), how a run's
model is built from them (`build`), and what one training image costs (`train_flops`)."""
from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import torch

from .layers import ARTICLE
from .models import LAST_LAYERS, simplified_net


class Network(NamedTuple):
    """A network a run can train: where its settings are on each profile, and how to build it."""

    family: str  # the Profile field with this network's settings on each profile: "simplified" or "torchvision"
    load: Callable  # () -> (builder: (num_classes, **config["model"]) -> nn.Module, names of the layers a run tracks)


def _torchvision(arch: str):
    """architectures.torchvision_net for `arch` and the article's layers in it (layers.ARTICLE: those drawn, and
    figure 1's typical one). Imported on first use, so that importing networks (and config, which reads NETWORKS)
    does not import torchvision."""
    from .architectures import torchvision_net

    layer = ARTICLE[arch]
    return partial(torchvision_net, arch), layer.drawn + ((layer.typical,) if layer.typical else ())


# Every network a run can train, by config["arch"]: the one table that `build`, the override check and
# config.resolve read. The simplified net tracks its last layers (those kept) and the first.
NETWORKS = {
    "simplified": Network("simplified", lambda: (simplified_net, LAST_LAYERS + ("block0.a",))),
    **{arch: Network("torchvision", partial(_torchvision, arch))
       for arch in ARTICLE},  # architectures.ARCHS, without importing torchvision
}


def build(config: dict, num_classes: int):
    """(model, names of the layers a run tracks) for a resolved config (config.resolve): the network
    config["arch"] of NETWORKS with config["model"]'s keywords, freshly initialized from the current torch seed."""
    builder, layers = NETWORKS[config["arch"]].load()
    model = builder(num_classes, **config["model"])
    modules = dict(model.named_modules())
    return model, [name for name in layers if name in modules]


def train_flops(config: dict, num_classes: int = 10) -> float:
    """FLOPs of one training image (forward + backward) of the model of a resolved config, counted by torch.
    Builds a throwaway model without touching the caller's random state."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.random.fork_rng(devices=[]):
        model, _ = build(config, num_classes)
    x = torch.zeros(2, 3, config["model"]["in_size"], config["model"]["in_size"])
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / 2
