"""Pretrained ImageNet models (torchvision's weights, or a local checkpoint) and the discovery helpers of
figures 1-3: scan every conv of a model for banding, and AlexNet's fc6 viewed by input position.

Weights come through torchvision's weights API, which downloads once into torch.hub.get_dir()/checkpoints
(by default ~/.cache/torch/hub/checkpoints; TORCH_HOME moves it). Offline, a copy placed there is picked up;
without one, `PretrainedUnavailable` says which file to put where.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from math import isqrt
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum

from .architectures import ARCHS, check_choice
from .layers import conv_names, get_layer
from .metrics import band_shares, null_share


class PretrainedUnavailable(RuntimeError):
    """The pretrained weights are neither in the torch hub cache nor downloadable (offline machine)."""


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read (truncated, corrupt) or does not fit the architecture."""


def weights_for(arch: str, weights="DEFAULT") -> WeightsEnum:
    """torchvision's weights enum member for `arch`: `weights` is a member name ("DEFAULT",
    "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V1") or a member. (ResNet50's DEFAULT is IMAGENET1K_V2,
    torchvision's newer recipe; IMAGENET1K_V1 is the classic training.)"""
    check_choice("architecture", arch, ARCHS)
    enum = torchvision.models.get_model_weights(arch)
    if isinstance(weights, enum):
        return weights
    if isinstance(weights, WeightsEnum):
        raise ValueError(f"{weights} are not weights for {arch}: use one of {', '.join(enum.__members__)}")
    name = str(weights).rpartition(".")[2]  # "ResNet50_Weights.IMAGENET1K_V1" -> "IMAGENET1K_V1"
    return enum[check_choice(f"{enum.__name__} name", name, list(enum.__members__))]


def cache_path(weights: WeightsEnum) -> Path:
    """Where torch.hub keeps (and looks for) the file of `weights`: <hub dir>/checkpoints/<file name>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def read_state_dict(checkpoint) -> dict[str, torch.Tensor]:
    """The state dict in `checkpoint`: a path to a file saved with torch.save, or an already loaded dict;
    either a state dict itself or a dict holding it under "state_dict" or "model". A "module." prefix
    (DataParallel) is dropped. Unreadable files raise CheckpointError naming the file."""
    where = "the given dict"
    obj = checkpoint
    if not isinstance(checkpoint, Mapping):
        path = Path(checkpoint)
        where = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {path} does not exist")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # truncated zip, bad pickle, EOF: all mean "this file is broken"
            raise CheckpointError(
                f"could not read checkpoint {path} ({type(err).__name__}: {err}). The file is probably truncated "
                f"or corrupt (an interrupted download or copy): copy it again, or delete it and download it "
                f"anew.") from err
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{where} holds no state dict (names -> tensors), nor one under 'state_dict' or "
                              f"'model': save one with torch.save(model.state_dict(), path)")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return dict(obj)


def _empty_architecture(arch: str, state: Mapping) -> nn.Module:
    """torchvision's `arch` on the meta device (no memory, no init), laid out like its ImageNet weights file.
    GoogLeNet as torchvision's googlenet() builds it for weights: transform_input=True, with aux heads when
    the file has them (torchvision's own file does; they are dropped after loading)."""
    kwargs = {}
    if arch == "googlenet":
        kwargs = dict(transform_input=True, init_weights=False, aux_logits=any(k.startswith("aux1.") for k in state))
    with torch.device("meta"):
        return torchvision.models.get_model(arch, weights=None, **kwargs)


def _load_checkpoint(arch: str, checkpoint) -> nn.Module:
    state = read_state_dict(checkpoint)
    where = checkpoint if not isinstance(checkpoint, Mapping) else "the given checkpoint dict"
    model = _empty_architecture(arch, state)
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    advice = (f"pass a state dict of torchvision.models.{arch}() (ImageNet layout, 1000 classes), e.g. the file "
              f"{cache_path(weights_for(arch)).name} from {weights_for(arch).url}")
    if missing or unexpected:
        raise CheckpointError(f"checkpoint {where} does not fit torchvision's {arch}: {len(missing)} missing keys "
                              f"{missing[:3]}, {len(unexpected)} unexpected keys {unexpected[:3]}; {advice}")
    try:
        model.load_state_dict(state, strict=True, assign=True)  # the meta tensors become the loaded ones
    except RuntimeError as err:  # size mismatches
        raise CheckpointError(f"checkpoint {where} does not fit torchvision's {arch}: {err}; {advice}") from None
    if getattr(model, "aux1", None) is not None:  # as torchvision's googlenet(weights=...) without aux_logits
        model.aux_logits, model.aux1, model.aux2 = False, None, None
    return model


def load_pretrained(arch: str, weights="DEFAULT", *, checkpoint=None) -> nn.Module:
    """torchvision's ImageNet-trained `arch` ("googlenet", "resnet50", "vgg19", "alexnet"), in eval mode.

    checkpoint: a local file (or loaded dict) with the state dict; it is loaded strictly into torchvision's
        architecture (`weights` is then ignored). A truncated file or one of another layout raises
        CheckpointError saying what to do.
    Otherwise torchvision.models.get_model(arch, weights=...) loads the file from the torch hub cache, or
    downloads it there first; if that fails (offline), PretrainedUnavailable names the file, its URL and the
    cache path where a copy would be picked up.
    """
    check_choice("architecture", arch, ARCHS)
    if checkpoint is not None:
        return _load_checkpoint(arch, checkpoint).eval()
    w = weights_for(arch, weights)
    cached = cache_path(w)
    was_cached = cached.is_file()
    try:
        model = torchvision.models.get_model(arch, weights=w)
    except (URLError, OSError, RuntimeError) as err:
        if was_cached:  # the download was skipped: the cached copy itself is bad
            raise CheckpointError(
                f"the cached weights {cached} could not be loaded ({type(err).__name__}: {err}). Delete the file "
                f"(an online machine downloads it again) or replace it with a good copy of {w.url}") from err
        raise PretrainedUnavailable(
            f"pretrained {arch} weights {w} are not available: {cached.name} is not in the torch hub cache and "
            f"downloading {w.url} failed ({type(err).__name__}: {err}).\n"
            f"  looked for: {cached}\n"
            f"  To work offline, download {w.url} on a machine with internet and copy it to {cached} "
            f"(TORCH_HOME sets the cache root: <TORCH_HOME>/hub/checkpoints/{cached.name}), or pass "
            f"checkpoint='path/to/{cached.name}'.") from err
    return model.eval()


# --- AlexNet's fc6 by input position (figure 3) ---

def fc6_by_position(model: nn.Module) -> torch.Tensor:
    """AlexNet's fc6 (`classifier.1`, (4096, 9216)) viewed by input position: (4096, 256, 6, 6) =
    (out, channel, y, x). AlexNet.forward flattens the (N, 256, 6, 6) map with torch.flatten(x, 1), so input
    index (c * 6 + y) * 6 + x is channel c at row y, column x. Channels are the last conv of `features`;
    works for a width-scaled AlexNet too. Detached, on the model's device. Score it as 6x6 kernels: metrics.score(fc6_by_position(model))."""
    fc6 = get_layer(model, "classifier.1")
    channels = [m for m in get_layer(model, "features").modules() if isinstance(m, nn.Conv2d)][-1].out_channels
    positions, rest = divmod(fc6.in_features, channels)
    side = isqrt(positions)
    if rest or side * side != positions:
        raise ValueError(f"fc6 has {fc6.in_features} inputs, not {channels} channels times a square map")
    return fc6.weight.detach().reshape(fc6.out_features, channels, side, side)  # (out, C, y, x)


def position_profile(w: torch.Tensor) -> torch.Tensor:
    """Per output neuron, the weight energy at each row y: sum of squares over channels and x.
    (out, C, H, W) -> (out, H). For fc6_by_position this is figure 3's "varies with global y"."""
    return (w.detach().float() ** 2).sum(dim=(1, 3))  # (out, H)


# --- "Open up any ImageNet conv net": scan every conv for banding ---

def _mean(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]  # zero-variance kernels have NaN shares
    return float(v.mean()) if v.size else float("nan")


def scan(model: nn.Module) -> list[dict]:
    """One row per Conv2d with a kernel larger than 1x1, in definition order: {"name", "shape" ("out x in x kh x kw",
    as text: "64x3x7x7"), "row", "col" (mean per-neuron row / column share of the raw weight, metrics.band_shares), "null"
    (the row share of i.i.d. noise for that kernel)}."""
    rows = []
    for name in conv_names(model):
        conv = model.get_submodule(name)
        if not isinstance(conv, nn.Conv2d) or tuple(conv.kernel_size) == (1, 1):
            continue
        row, col = band_shares(conv.weight)
        rows.append({"name": name, "shape": "x".join(map(str, conv.weight.shape)), "row": _mean(row), "col": _mean(col),
                     "null": null_share(*conv.kernel_size)})
    return rows


def format_scan(rows: list[dict]) -> str:
    """`scan`'s rows (or the scores step's scan.csv read back) as an aligned text table, one line per layer under
    a header."""
    shapes = [r["shape"] for r in rows]
    nw = max([len("layer")] + [len(r["name"]) for r in rows])
    sw = max([len("shape")] + [len(s) for s in shapes])
    lines = [f"{'layer':<{nw}}  {'shape':>{sw}}  {'row':>5}  {'col':>5}  {'null':>5}"]
    for r, s in zip(rows, shapes):
        lines.append(f"{r['name']:<{nw}}  {s:>{sw}}  {r['row']:5.2f}  {r['col']:5.2f}  {r['null']:5.2f}")
    return "\n".join(lines)


@functools.cache
def quietly(arch: str) -> nn.Module | None:
    """load_pretrained(arch) without torch.hub's download lines, or None where the weights cannot be had
    (offline and not cached); loaded once per process."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return load_pretrained(arch)
        except PretrainedUnavailable:
            return None
