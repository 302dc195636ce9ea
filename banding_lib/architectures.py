"""torchvision's GoogLeNet (InceptionV1), ResNet50, VGG19 and AlexNet, built from torchvision's own classes,
with the article's interventions as keyword arguments: `width` (channel scale for CPU runs) and `head`
("gap": global average pooling before the classifier; "flatten": no pooling, the classifier sees every
position). Module paths stay torchvision's, so the article's layers keep their names (`layers.ARTICLE`, which
also says why GoogLeNet's "mixed5b 5x5" has 3x3 kernels here).

The ninth-to-eleventh figures retrain three of these from scratch as baseline / rotated 90 degrees / pooling
removed; `config.RUNS` holds those nine runs. Rotation is a property of the data, not of the model.
"""
from __future__ import annotations

import difflib
import math
from functools import partial

import torch
from torch import nn
from torchvision.models import AlexNet, GoogLeNet, ResNet, VGG
from torchvision.models.googlenet import BasicConv2d, Inception, InceptionAux
from torchvision.models.resnet import Bottleneck
from torchvision.models.vgg import cfgs, make_layers


HEADS = ("gap", "flatten")


# The stem's first max pool, by architecture: `stem_pool=False` replaces it with an identity (module paths
# unchanged), halving the total stride, so small inputs keep a real final map (56 px: 4x4, not 2x2).
STEM_POOLS = {"googlenet": "maxpool1", "resnet50": "maxpool", "vgg19": "features.4", "alexnet": "features.2"}


def check_choice(kind: str, name: str, valid) -> str:
    """`name` if it is in `valid`, else ValueError naming close matches and every valid choice."""
    if name in valid:
        return name
    close = difflib.get_close_matches(str(name), list(valid), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    raise ValueError(f"unknown {kind} {name!r}: {hint}valid: {', '.join(valid)}")


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def _resized_conv(conv: nn.Conv2d, in_channels: int, out_channels: int) -> nn.Conv2d:
    """A fresh Conv2d like `conv` (kernel, stride, padding, ...) with other channel counts."""
    return nn.Conv2d(in_channels, out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                     dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None)


def _pool(head: str, side: int) -> nn.Module:
    return nn.AdaptiveAvgPool2d(side) if head == "gap" else nn.Identity()


def _body(model: nn.Module) -> nn.Sequential:
    """The children before `avgpool`, in order: the convolutional part of all four torchvision classes
    (their forward runs the children in definition order; GoogLeNet's aux heads are None here)."""
    names = [name for name, _ in model.named_children()]
    return nn.Sequential(*[model.get_submodule(n) for n in names[:names.index("avgpool")]])


def last_map_shape(model: nn.Module, in_size: int) -> tuple[int, int, int]:
    """(C, H, W) of the map that reaches `avgpool` for a (1, 3, in_size, in_size) input, by a dry forward
    in eval mode (batch norm statistics untouched; batch 1 with a 1x1 map would fail in train mode)."""
    body = _body(model)
    device = next(body.parameters()).device
    was_training = body.training
    body.eval()
    try:
        with torch.no_grad():
            out = body(torch.zeros(1, 3, in_size, in_size, device=device))  # (1, C, H, W)
    except RuntimeError as err:
        raise ValueError(f"{type(model).__name__} cannot take {in_size}x{in_size} inputs: {err}") from None
    finally:
        body.train(was_training)
    return tuple(out.shape[1:])


def _head_inputs(model: nn.Module, head: str, in_size: int, pooled_side: int = 1) -> int:
    """Inputs of the first classifier layer: C * pooled_side^2 after pooling, C*H*W without."""
    c, h, w = last_map_shape(model, in_size)
    return c * pooled_side ** 2 if head == "gap" else c * h * w


def _keep_stem_pool(model: nn.Module, arch: str, keep: bool) -> None:
    """Replace the stem's first max pool (STEM_POOLS[arch]) with an identity unless `keep`."""
    if not keep:
        parent, _, child = STEM_POOLS[arch].rpartition(".")
        pool = model.get_submodule(STEM_POOLS[arch])
        assert isinstance(pool, nn.MaxPool2d), f"{arch}.{STEM_POOLS[arch]} is {type(pool).__name__}, not the max pool"
        setattr(model.get_submodule(parent) if parent else model, child, nn.Identity())


# --- GoogLeNet (InceptionV1) ---

def _scaled_basic_conv(in_channels: int, out_channels: int, *, width: float, **kwargs) -> BasicConv2d:
    """GoogLeNet's stem conv block at `width` (the RGB input stays 3)."""
    in_channels = in_channels if in_channels == 3 else _scaled(in_channels, width)
    return BasicConv2d(in_channels, _scaled(out_channels, width), **kwargs)


class _ScaledInceptions:
    """GoogLeNet's `blocks[1]`: builds torchvision's Inception with every branch width scaled.

    A block concatenates its four branches, so the next block's input is the sum of the *rounded* branch
    widths, which can differ from round(width * torchvision's sum): carry the real count from block to block.
    GoogLeNet builds its blocks in forward order, each fed by the one before (checked)."""

    def __init__(self, width: float):
        self.width = width
        self.raw, self.actual = 192, _scaled(192, width)  # conv3's output feeds inception3a

    def __call__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, conv_block=None):
        if in_channels != self.raw:
            raise RuntimeError(f"torchvision's GoogLeNet no longer chains its Inception blocks in order "
                               f"(block input {in_channels}, previous output {self.raw}): update _ScaledInceptions")
        w = [_scaled(c, self.width) for c in (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)]
        block = Inception(self.actual, *w, conv_block=conv_block)
        self.raw, self.actual = ch1x1 + ch3x3 + ch5x5 + pool_proj, w[0] + w[2] + w[4] + w[5]
        return block


def _googlenet(num_classes: int, width: float, head: str, in_size: int, stem_pool: bool, batch_norm: bool) -> GoogLeNet:
    blocks = [partial(_scaled_basic_conv, width=width), _ScaledInceptions(width), InceptionAux]
    model = GoogLeNet(num_classes, aux_logits=False, transform_input=False, init_weights=True, blocks=blocks)
    _keep_stem_pool(model, "googlenet", stem_pool)
    model.avgpool = _pool(head, 1)
    model.fc = nn.Linear(_head_inputs(model, head, in_size), num_classes)
    nn.init.trunc_normal_(model.fc.weight, mean=0.0, std=0.01, a=-2, b=2)  # as GoogLeNet(init_weights=True)
    return model


# --- ResNet50 ---

class _ScaledResNet(ResNet):
    """torchvision's ResNet with the stem's 64 channels and each stage's `planes` times `width` (a
    bottleneck's output stays 4 * planes)."""

    def __init__(self, block, layers, *, width: float = 1.0, **kwargs):
        self.width = width  # read by _make_layer, which ResNet.__init__ calls
        super().__init__(block, layers, **kwargs)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        stem = _scaled(64, self.width)
        if self.conv1.out_channels != stem:  # first call: ResNet built its stem at 64 channels
            self.conv1 = _resized_conv(self.conv1, 3, stem)
            self.bn1 = self._norm_layer(stem)
            self.inplanes = stem
        # (ResNet.__init__ initialises every conv and batch norm after this, the new stem included)
        return super()._make_layer(block, _scaled(planes, self.width), blocks, stride, dilate)


def _resnet50(num_classes: int, width: float, head: str, in_size: int, stem_pool: bool, batch_norm: bool) -> ResNet:
    model = _ScaledResNet(Bottleneck, [3, 4, 6, 3], width=width, num_classes=num_classes)  # torchvision's resnet50
    _keep_stem_pool(model, "resnet50", stem_pool)
    model.avgpool = _pool(head, 1)
    model.fc = nn.Linear(_head_inputs(model, head, in_size), num_classes)  # ResNet keeps nn.Linear's own init
    return model


# --- VGG19 ---

def _vgg_linear(in_features: int, out_features: int, width: float) -> nn.Linear:
    layer = nn.Linear(in_features, out_features)
    # VGG(init_weights=True) draws N(0, 0.01) for 4096-wide layers; a narrower net keeps the same gain per
    # layer with std 0.01 / sqrt(width) (at width 1/8 the plain 0.01 left the logits ~1e-3 and nothing learned)
    nn.init.normal_(layer.weight, 0, 0.01 / math.sqrt(width))
    nn.init.constant_(layer.bias, 0)
    return layer


def _with_batch_norm(features: nn.Sequential) -> None:
    """torchvision's vgg19_bn order (conv, batch norm, ReLU) with vgg19's module paths: each ReLU after a conv
    becomes Sequential(BatchNorm2d, ReLU), so that `features.32` is still conv5_3 (vgg19_bn would number it 46)."""
    for i, m in enumerate(features):
        if isinstance(m, nn.Conv2d):
            bn = nn.BatchNorm2d(m.out_channels)  # weight 1, bias 0: torchvision's VGG init for batch norm
            features[i + 1] = nn.Sequential(bn, features[i + 1])


def _vgg19(num_classes: int, width: float, head: str, in_size: int, stem_pool: bool, batch_norm: bool) -> VGG:
    features = make_layers([v if v == "M" else _scaled(v, width) for v in cfgs["E"]])  # "E" = VGG19
    if batch_norm:
        _with_batch_norm(features)
    with torch.device("meta"):  # VGG's 512*7*7 -> 4096 classifier is replaced below: don't allocate it
        model = VGG(features, num_classes=num_classes, init_weights=True)  # still initialises `features`
    _keep_stem_pool(model, "vgg19", stem_pool)
    # torchvision's AdaptiveAvgPool2d(7) leaves a 224 px input's 7x7 map as it is: no pooling. The
    # baseline here pools globally, so that removing the pooling is a real intervention.
    model.avgpool = _pool(head, 1)
    hidden = _scaled(4096, width)
    model.classifier[0] = _vgg_linear(_head_inputs(model, head, in_size), hidden, width)
    model.classifier[3] = _vgg_linear(hidden, hidden, width)
    model.classifier[6] = _vgg_linear(hidden, num_classes, width)
    return model


# --- AlexNet ---

def _alexnet(num_classes: int, width: float, head: str, in_size: int, stem_pool: bool, batch_norm: bool) -> AlexNet:
    with torch.device("meta"):  # every weight is rebuilt below at `width`
        model = AlexNet(num_classes=num_classes)
    for i, m in enumerate(model.features):
        if isinstance(m, nn.Conv2d):
            in_channels = 3 if m.in_channels == 3 else _scaled(m.in_channels, width)
            model.features[i] = _resized_conv(m, in_channels, _scaled(m.out_channels, width))
    _keep_stem_pool(model, "alexnet", stem_pool)
    # AlexNet has no global pooling: "gap" keeps torchvision's AdaptiveAvgPool2d(6) (a no-op at 224 px).
    model.avgpool = _pool(head, 6)
    hidden = _scaled(4096, width)
    model.classifier[1] = nn.Linear(_head_inputs(model, head, in_size, pooled_side=6), hidden)
    model.classifier[4] = nn.Linear(hidden, hidden)
    model.classifier[6] = nn.Linear(hidden, num_classes)
    return model


_BUILDERS = {"googlenet": _googlenet, "resnet50": _resnet50, "vgg19": _vgg19, "alexnet": _alexnet}
ARCHS = tuple(_BUILDERS)


def torchvision_net(arch: str, num_classes: int = 1000, *, width: float = 1.0, head: str = "gap",
                    in_size: int = 224, stem_pool: bool = True, init_scale: float = 1.0,
                    batch_norm: bool = False) -> nn.Module:
    """torchvision's `arch` ("googlenet", "resnet50", "vgg19", "alexnet"), randomly initialised as
    torchvision does, with torchvision's module paths. Input NCHW (N, 3, in_size, in_size), output
    (N, num_classes) logits.

    width: every channel count (and hidden FC width) times `width`, rounded, at least 1; the RGB input
        stays 3. width=1 gives torchvision's shapes. GoogLeNet: Inception branch widths are scaled and each
        block's input is the sum of the scaled widths before it; ResNet50: the stem and each stage's
        `planes` (bottleneck outputs stay 4 * planes).
    head: "gap": global average pooling, then the architecture's classifier (GoogLeNet / ResNet50: fc;
        VGG19: its 3-layer FC stack fed with C inputs, *not* torchvision's AdaptiveAvgPool2d(7), which at
        224 px does no pooling; AlexNet: torchvision's AdaptiveAvgPool2d(6) as is). "flatten": the pooling
        removed, the classifier sees the last map flattened, C*H*W inputs (VGG19 at width=1 and 224 px is
        then exactly torchvision's vgg19).
    in_size: input side in pixels; sets C*H*W for "flatten" (by a dry forward) and checks the net accepts
        it (VGG19 and GoogLeNet need >= 32, AlexNet >= 63).
    stem_pool: False replaces the first max pool (STEM_POOLS) with an identity: the last map doubles its
        side (GoogLeNet and ResNet50 at 56 px: 4x4 instead of 2x2; VGG19: 3x3 instead of 1x1) at ~4x the cost.
    init_scale: multiplies the initial weights of every conv of a net with batch norm (GoogLeNet, ResNet50),
        as the simplified net's init_scale: batch norm undoes the scale, so only less initial noise remains
        in the kernels after a short training. VGG19 and AlexNet have no batch norm: there it would shrink
        the signal at every layer, so it is not applied.
    batch_norm: VGG19 only (GoogLeNet and ResNet50 have it already): a batch norm after every conv, as
        torchvision's vgg19_bn, with vgg19's module paths (the article's layers keep their names). A
        difference from the article, whose VGG19 has none.
    GoogLeNet is built without aux logits, init_weights=True, transform_input=False.
    """
    check_choice("architecture", arch, ARCHS)
    check_choice("head", head, HEADS)
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    if not init_scale > 0:
        raise ValueError(f"init_scale must be > 0, got {init_scale}")
    if batch_norm and arch != "vgg19":
        raise ValueError(f"batch_norm=True applies to vgg19 only ({arch} has its own batch norm or, AlexNet, none)")
    model = _BUILDERS[arch](num_classes, width, head, in_size, stem_pool, batch_norm)
    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.mul_(init_scale)
    return model
