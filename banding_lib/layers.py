"""Addressing layers by one string, their module path ("block5.b", "layer4.2.conv2", "features.34",
"inception5b.branch3.1"), and the one table of the article's layers in torchvision's networks (ARTICLE)."""
from __future__ import annotations

import difflib
from typing import NamedTuple

import torch
from torch import nn


class ArticleLayer(NamedTuple):
    """The layer of one torchvision architecture that the article shows, as torchvision's module path."""

    path: str  # the layer of the article's retraining figure (9-11); AlexNet: of its pretrained figure 3
    name: str  # the article's name for it
    kernel: int  # its kernel side in torchvision
    figure: str | None  # the article's figure of the retrained architecture; None: drawn pretrained only
    zoo_panel: str | None = None  # the layer of the article's model-zoo panel (figures 1-3), where it is another
    typical: str | None = None  # figure 1's "typical" layer beside it

    @property
    def panel(self) -> str:
        """The layer of the article's model-zoo (pretrained) panel."""
        return self.zoo_panel or self.path

    @property
    def drawn(self) -> tuple[str, ...]:
        """Every layer of this architecture the article drew: the model-zoo panel's, then the retrained one's."""
        return tuple(dict.fromkeys((self.panel, self.path)))


# The article's layers (figures 1-3 and 9-11), the one table that networks, article, panels and page 01 read.
# torchvision's GoogLeNet has a 3x3 conv in the branch where the original InceptionV1 has 5x5 (pytorch/vision#906):
# its "mixed5b 5x5" is inception5b.branch3.1 with 3x3 kernels (noise row share 0.25, not 0.167). Figure 1's typical
# layer is mixed3a's same branch, in the first Inception block (28x28 maps, far from the pooling), so that the two
# pictures differ in depth only.
ARTICLE = {
    "googlenet": ArticleLayer("inception5b.branch3.1", "mixed5b 5x5", 3, "9", typical="inception3a.branch3.1"),
    "resnet50": ArticleLayer("layer4.2.conv2", "block4 unit_3 conv2", 3, "10"),  # last bottleneck's 3x3, 512 -> 512
    "vgg19": ArticleLayer("features.34", "conv5_4", 3, "11", zoo_panel="features.32"),  # the model zoo's: conv5_3
    "alexnet": ArticleLayer("features.10", "conv5", 3, None),  # fc6 is "classifier.1" (pretrained.fc6_by_position)
}


class UnknownLayerError(KeyError):
    """A layer name that is not a module path of the model; the message lists close valid names."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def conv_names(model: nn.Module) -> list[str]:
    """Module paths of every Conv2d / Linear in forward-definition order (the addressable layers)."""
    return [name for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def get_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule at `name`; an unknown name raises UnknownLayerError naming close valid layers."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        valid = [n for n, _ in model.named_modules() if n]
        close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        layers = conv_names(model)
        shown = ", ".join(layers[:12]) + (f", ... ({len(layers)} in all)" if len(layers) > 12 else "")
        raise UnknownLayerError(
            f"no layer {name!r} in {type(model).__name__}: {hint}conv/linear layers are: {shown}") from None


def layer_weight(model: nn.Module, name: str) -> torch.Tensor:
    """The weight of the conv at `name` (out, in, kh, kw), detached on CPU. `name` may point at a
    container holding exactly one conv (e.g. "block5.b" = conv + batch norm)."""
    module = get_layer(model, name)
    if not isinstance(module, (nn.Conv2d, nn.Linear)):
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        if len(convs) != 1:
            raise ValueError(f"layer {name!r} is a {type(module).__name__} holding {len(convs)} convs; "
                             f"name one of: {', '.join(n for n in conv_names(module)) or 'none'}")
        module = convs[0]
    return module.weight.detach().cpu()
