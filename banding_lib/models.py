"""The article's simplified network: its layer table, its head interventions (HEADS), and its rows for the
architecture diagram (`describe`). The networks a run can train, this one among them, are in banding_lib.networks.

Tensors are NCHW: y is the H axis (dim 2), x the W axis (dim 3). Conv layers are addressed by
module path, "block0.a" ... "block5.b", as everywhere else in banding_lib.
"""
import math
from collections import OrderedDict
from typing import Callable, NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

# (group name, kernel size, channels per layer at width 1); the article's diagram at 224 px.
GROUPS = (
    ("block0", 7, (32,)),
    ("block1", 5, (64,)),
    ("block2", 5, (64,)),
    ("block3", 5, (128, 128)),
    ("block4", 5, (256,) * 5),
    ("block5", 5, (512, 512)),
)
KERNELS = tuple(kernel for _, kernel, _ in GROUPS)  # (7, 5, 5, 5, 5, 5): the article's kernel size per group
BLOCKS = tuple(group for group, _, _ in GROUPS)
SHORT_BLOCKS = ("block0", "block1", "block2", "block5")  # the article's net without blocks 3-4 (a depth point of the scale study)
LAST_LAYERS = ("block4.e", "block5.a", "block5.b")
MASK_GATES = ("none", "sigmoid")


class L2Pool(nn.Module):
    """sqrt(mean of squares) over 3x3 windows, stride 2: (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))."""

    def __init__(self, eps=1e-6):
        super().__init__()
        self.eps = eps  # keeps the gradient of sqrt finite where a window is all zeros

    def forward(self, x):
        # Padding is left out of the average, like TF's SAME pooling.
        mean_sq = F.avg_pool2d(x * x, 3, stride=2, padding=1, count_include_pad=False)
        return torch.sqrt(mean_sq + self.eps)


def coord_channels(x):
    """(B, C, H, W) -> (B, 2, H, W): channel 0 is x (W axis), channel 1 is y (H axis), both in [-1, 1]."""
    b, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return torch.stack([grid_x, grid_y]).expand(b, 2, h, w)


class ConvBN(nn.Module):
    """Stride-1 "same" conv (no bias) -> BatchNorm2d -> ReLU; (B, in, H, W) -> (B, out, H, W).

    coordconv=True concatenates coord_channels(x) to the input, so conv has in + 2 input channels.
    """

    def __init__(self, in_ch, out_ch, kernel, coordconv=False):
        super().__init__()
        self.coordconv = coordconv
        self.conv = nn.Conv2d(in_ch + 2 * coordconv, out_ch, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x):
        if self.coordconv:
            x = torch.cat([x, coord_channels(x)], dim=1)  # (B, in + 2, H, W)
        return F.relu(self.bn(self.conv(x)))


# Heads: each maps the (B, C, S, S) output of 5b to (B, features) and ends in the classifier `fc`.
class Head(nn.Module):
    def forward(self, x):
        return self.fc(self.features(x))


class GapHead(Head):
    def __init__(self, c, s, classes):
        super().__init__()
        self.fc = nn.Linear(c, classes)

    def features(self, x):
        return x.mean(dim=(2, 3))  # (B, C)


# Heads that keep positions feed the FC n times GAP's inputs (n positions or rows). Their features are
# divided by sqrt(n), so the FC's output moves as fast per SGD step as GAP's does at the same LR: unscaled,
# the cpu profile's flatten run took an n = 49 times larger effective step and stalled near chance. The
# function class is unchanged (the FC can absorb any scale).
class FlattenHead(Head):
    def __init__(self, c, s, classes, scaled=True):
        super().__init__()
        self.scaled = scaled  # False: the ablation (features not divided by sqrt(n))
        self.fc = nn.Linear(c * s * s, classes)  # sees every position: S*S times GAP's parameters

    def features(self, x):
        return x.flatten(1) / (x.shape[2] if self.scaled else 1)  # (B, C*S*S), divided by sqrt(S*S)


class XPoolHead(Head):
    def __init__(self, c, s, classes, also_y=False, scaled=True):
        super().__init__()
        self.also_y, self.scaled = also_y, scaled
        self.fc = nn.Linear(c * s * (1 + also_y), classes)

    def features(self, x):
        parts = [x.mean(dim=3)]  # (B, C, S): one value per row y
        if self.also_y:
            parts.append(x.mean(dim=2))  # (B, C, S): one value per column x
        pooled = torch.cat(parts, dim=2)  # (B, C, S) or (B, C, 2*S)
        return pooled.flatten(1) / (math.sqrt(pooled.shape[2]) if self.scaled else 1)  # see FlattenHead


class YPoolHead(Head):
    """Average over y only (one value per column x): the mirror of XPoolHead, a control for its gradient's shape."""

    def __init__(self, c, s, classes):
        super().__init__()
        self.fc = nn.Linear(c * s, classes)

    def features(self, x):
        pooled = x.mean(dim=2)  # (B, C, S): one value per column x
        return pooled.flatten(1) / math.sqrt(pooled.shape[2])  # (B, C*S), see FlattenHead


class MasksHead(Head):
    """n learned spatial masks, each weighting the map before an average: n GAP-like features a channel.
    gate "none": the masks are free parameters (any sign or size); "sigmoid": each mask passes a sigmoid, so it
    lies in (0, 1) (the article's runs `gap-mask-N-sig`)."""

    def __init__(self, c, s, classes, n_masks, gate="none"):
        super().__init__()
        if gate not in MASK_GATES:
            raise ValueError(f"unknown mask_gate {gate!r}; valid: {', '.join(MASK_GATES)}")
        self.gate = gate
        # free: ones plus a little noise, n copies of GAP with the symmetry broken; sigmoid: 0 plus noise, each
        # mask 0.5 everywhere (half of GAP) at the start
        self.masks = nn.Parameter((1 if gate == "none" else 0) + 0.01 * torch.randn(n_masks, s, s))
        self.fc = nn.Linear(c * n_masks, classes)

    def weights(self):
        return self.masks if self.gate == "none" else torch.sigmoid(self.masks)

    def features(self, x):
        pooled = torch.einsum("bchw,nhw->bcn", x, self.weights()) / (x.shape[2] * x.shape[3])  # (B, C, n)
        return pooled.flatten(1)  # (B, C*n)


class MaskFullHead(Head):
    def __init__(self, c, s, classes):
        super().__init__()
        self.mask = nn.Parameter(torch.ones(c, s, s))  # starts exactly as GAP
        self.fc = nn.Linear(c, classes)

    def features(self, x):
        return (x * self.mask).mean(dim=(2, 3))  # (B, C)


class AttentionHead(Head):
    def __init__(self, c, s, classes, heads=4):
        super().__init__()
        self.score = nn.Conv2d(c, heads, 1)
        self.fc = nn.Linear(c * heads, classes)

    def features(self, x):
        weights = self.score(x).flatten(2).softmax(dim=-1)  # (B, heads, S*S), sums to 1 over positions
        pooled = torch.einsum("bhp,bcp->bhc", weights, x.flatten(2))  # (B, heads, C)
        return pooled.flatten(1)  # (B, heads*C)


class GroupsHead(Head):
    def __init__(self, c, s, classes, groups):
        super().__init__()
        if c % groups:
            raise ValueError(f"head 'groups': {c} channels of 5b are not divisible by groups={groups}")
        hidden = c // groups
        # One grouped conv with an SxS kernel = a separate Linear over each group's whole map.
        self.group_fc = nn.Conv2d(c, groups * hidden, s, groups=groups, bias=False)
        self.bn = nn.BatchNorm1d(groups * hidden)
        self.fc = nn.Linear(groups * hidden, classes)

    def features(self, x):
        return F.relu(self.bn(self.group_fc(x).flatten(1)))  # (B, groups*hidden)


class MaxPoolFCHead(Head):
    def __init__(self, c, s, classes, hidden):
        super().__init__()
        self.hidden_fc = nn.Linear(c, hidden, bias=False)
        self.bn = nn.BatchNorm1d(hidden)
        self.fc = nn.Linear(hidden, classes)

    def features(self, x):
        return F.relu(self.bn(self.hidden_fc(x.amax(dim=(2, 3)))))  # (B, hidden)


class HeadKind(NamedTuple):
    """One head of the simplified net: how to build it and what it does between 5b and its classifier."""

    make: Callable  # (c, s, classes, options) -> Head for a (B, c, s, s) map; options: make_head's keywords
    pooling: str  # in words, the architecture diagram's label
    keeps_y: bool = False  # its classifier sees 5b's rows apart (pooled over x only): y position kept by construction


# Every head a run can name (config["model"]["head"]): the one table that make_head and describe read.
HEADS = {
    "gap": HeadKind(lambda c, s, k, o: GapHead(c, s, k), "global average pool"),
    "flatten": HeadKind(lambda c, s, k, o: FlattenHead(c, s, k, scaled=o["scale_features"]), "flatten (no pooling)"),
    "x": HeadKind(lambda c, s, k, o: XPoolHead(c, s, k, scaled=o["scale_features"]), "average over x", keeps_y=True),
    "y": HeadKind(lambda c, s, k, o: YPoolHead(c, s, k), "average over y"),
    "xy": HeadKind(lambda c, s, k, o: XPoolHead(c, s, k, also_y=True), "average over x and over y", keeps_y=True),
    "masks": HeadKind(lambda c, s, k, o: MasksHead(c, s, k, o["n_masks"], o["mask_gate"]),
                      "learned spatial masks (sigmoid-gated where the run says so), each then averaged"),
    "mask_full": HeadKind(lambda c, s, k, o: MaskFullHead(c, s, k), "learned mask, then global average pool"),
    "attention": HeadKind(lambda c, s, k, o: AttentionHead(c, s, k), "attention pooling"),
    "groups": HeadKind(lambda c, s, k, o: GroupsHead(c, s, k, o["groups"]),
                       "an FC per channel group over every position (no pooling)"),
    "maxpool_fc": HeadKind(lambda c, s, k, o: MaxPoolFCHead(c, s, k, o["hidden"]), "global max pool, FC"),
}


def make_head(head, c, s, classes, *, n_masks, groups, hidden, mask_gate="none", scale_features=True):
    """The head named `head` (HEADS) for a (B, c, s, s) map; see simplified_net."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; valid heads: {', '.join(HEADS)}")
    options = dict(n_masks=n_masks, groups=groups, hidden=hidden, mask_gate=mask_gate, scale_features=scale_features)
    return HEADS[head].make(c, s, classes, options)


def _check_layer_table(kernels: tuple, blocks: tuple, pools: int) -> None:
    """ValueError unless `kernels` has one odd size per group, `blocks` names distinct groups with block0 and
    block5, and `pools` pools fit between the kept blocks (see simplified_net)."""
    if len(kernels) != len(GROUPS) or not all(isinstance(k, int) and k >= 1 and k % 2 for k in kernels):
        raise ValueError(f"kernels must be {len(GROUPS)} odd positive ints, one per group {BLOCKS}, got {list(kernels)}")
    unknown = [b for b in blocks if b not in BLOCKS]
    if unknown or "block0" not in blocks or "block5" not in blocks or len(set(blocks)) != len(blocks):
        raise ValueError(f"blocks must name distinct groups of {BLOCKS}, including block0 and block5, got {list(blocks)}")
    if pools > len(blocks) - 1:
        raise ValueError(f"pools={pools} but only {len(blocks) - 1} pools sit between the {len(blocks)} kept blocks")


def simplified_net(num_classes=1001, *, width=1.0, in_size=224, pools=5, head="gap", coordconv=False,
                   n_masks=3, groups=16, hidden=4096, init_scale=1.0, kernels=KERNELS, blocks=BLOCKS, mask_gate="none",
                   scale_features=True):
    """The article's simplified network: (B, 3, in_size, in_size) -> (B, num_classes) logits.

    NCHW; y is the H axis (dim 2), x the W axis (dim 3). Children, in order: block0, pool1, block1,
    pool2, ..., block5, head. Conv layers are block<i>.<letter> ("block0.a" 7x7, then 5x5 up to
    "block5.b"), each a ConvBN with .conv and .bn. Only the first `pools` L2 pools are kept
    (pool1..pool<pools>), so small inputs still end on a small map of side model.final_size.
    `width` multiplies every channel count; `init_scale` multiplies the body's conv weights after the
    default init. `head` picks the intervention after 5b (see HEADS); its classifier is head.fc.
    `coordconv` adds x, y coordinate channels to the inputs of 5a and 5b. `hidden` (scaled by width,
    at least 16) is the maxpool_fc hidden size; `groups`, `n_masks` and `mask_gate` configure those heads;
    scale_features=False drops the flatten and x-pool heads' 1/sqrt(n) feature scaling (an ablation).
    The layer table: `kernels` gives the kernel size of each of the six groups (default KERNELS, the
    article's 7, 5, 5, 5, 5, 5); `blocks` names the groups kept (default all; block0 and block5 are always
    needed), e.g. ("block0", "block1", "block2", "block5") is the article's net without blocks 3-4. A pool
    precedes every kept group but the first, so dropping groups also drops their pools.
    """
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a positive finite number, got {width!r}")
    if not (isinstance(pools, int) and 0 <= pools <= 5):
        raise ValueError(f"pools must be an int in 0..5, got {pools!r}")
    if not (isinstance(in_size, int) and in_size >= 2 ** pools):
        raise ValueError(f"in_size must be an int >= 2**pools = {2 ** pools} so each pool halves it, got {in_size!r}")
    if not (isinstance(num_classes, int) and num_classes >= 1):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if not init_scale > 0:
        raise ValueError(f"init_scale must be > 0, got {init_scale!r}")
    if n_masks < 1 or groups < 1 or hidden < 1:
        raise ValueError(f"n_masks, groups and hidden must be >= 1, got {n_masks}, {groups}, {hidden}")
    kernels, blocks = tuple(kernels), tuple(blocks)
    _check_layer_table(kernels, blocks, pools)

    layers = OrderedDict()
    in_ch, size = 3, in_size
    kept = [(group, kernel, widths) for (group, _, widths), kernel in zip(GROUPS, kernels) if group in blocks]
    for i, (group, kernel, widths) in enumerate(kept):
        if 1 <= i <= pools:
            layers[f"pool{i}"] = L2Pool()
            size = math.ceil(size / 2)
        block = OrderedDict()
        for letter, c in zip("abcde", widths):
            out_ch = max(1, round(c * width))
            block[letter] = ConvBN(in_ch, out_ch, kernel, coordconv=coordconv and group == "block5")
            in_ch = out_ch
        layers[group] = nn.Sequential(block)
    hidden_width = max(16, round(hidden * width))
    layers["head"] = make_head(head, in_ch, size, num_classes, n_masks=n_masks, groups=groups, hidden=hidden_width,
                               mask_gate=mask_gate, scale_features=scale_features)

    model = nn.Sequential(layers)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, ConvBN):
                m.conv.weight.mul_(init_scale)  # with batch norm after it, this only raises the effective LR
    model.in_size, model.final_size, model.init_scale = in_size, size, init_scale
    model.config = dict(num_classes=num_classes, width=width, in_size=in_size, pools=pools, head=head,
                        coordconv=coordconv, n_masks=n_masks, groups=groups, hidden=hidden, init_scale=init_scale,
                        kernels=list(kernels), blocks=list(blocks), mask_gate=mask_gate,
                        scale_features=scale_features)
    return model


def describe(model, in_size=None):
    """One dict per layer in forward order, for the architecture diagram.

    Keys: name, kind ("conv" | "pool" | "head"), kernel (int or None), in_channels, out_channels,
    size (output side length for an in_size x in_size input; None for the head's vector output); the head
    also has `pooling` (HEADS: what it does between 5b and its classifier).
    """
    size = model.in_size if in_size is None else in_size
    rows, channels = [], 3
    for name, child in model.named_children():
        if isinstance(child, L2Pool):
            size = math.ceil(size / 2)
            rows.append(dict(name=name, kind="pool", kernel=3, in_channels=channels, out_channels=channels, size=size))
        elif name == "head":
            rows.append(dict(name=name, kind="head", kernel=None, in_channels=channels,
                             out_channels=child.fc.out_features, size=None,
                             pooling=HEADS[model.config["head"]].pooling))
        else:
            for letter, layer in child.named_children():
                conv = layer.conv
                rows.append(dict(name=f"{name}.{letter}", kind="conv", kernel=conv.kernel_size[0],
                                 in_channels=conv.in_channels, out_channels=conv.out_channels, size=size))
                channels = conv.out_channels
    return rows
