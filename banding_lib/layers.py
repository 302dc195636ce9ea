"""Addressing layers by one string, their module path ("block5.b", "layer4.2.conv2", "features.34",
"inception5b.branch3.1")."""
from __future__ import annotations

import difflib

import torch
from torch import nn


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
