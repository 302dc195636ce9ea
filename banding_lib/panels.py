"""The article's own weight panels (article-figures/reduced_weights, CC-BY 4.0), read and scored by this book.

Each panel is one layer as the article drew it: one small PNG a neuron, its three NMF factors as R, G, B. `kernels`
turns a panel into kernels (N, 3, kh, kw) that metrics.score reads as it reads our own reduced pictures, so the
grading rules (banding_lib.article) can be run on the article's figures (the rules must return the article's
conclusions there).
"""
from __future__ import annotations

import base64
import functools
import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from . import metrics
from .layers import ARTICLE

ROOT = Path(__file__).resolve().parent.parent / "article-figures"
CREDIT = ("the article's own figure data: Petrov et al., \"Weight Banding\", Distill 2021, CC-BY 4.0 "
          "(github.com/distillpub/post--weight-banding)")
# (run, layer) of this book -> the article's panel file (reduced_weights/<name>.json) of the same experiment
_SIMPLIFIED = {("baseline", "block5.b"): "Simplified-Base-v0__v1__5b", ("rotated", "block5.b"): "Simplified-90deg-v0__v1__5b",
               ("flatten", "block5.b"): "Simplified-fc-only-v0__v1__5b",
               ("x_pool", "block5.a"): "Simplified-x-avgpool-v0__v1__5a", ("x_pool", "block5.b"): "Simplified-x-avgpool-v0__v1__5b"}
# the article's panel files of each retrained architecture's layer (layers.ARTICLE); {}: baseline, 90deg, fc-only
_ARCH = {"googlenet": "InceptionV1_-_{}-v0__v1__InceptionV1__Mixed_5c__Branch_2__Conv2d_0b_5x5__weights__read",
         "resnet50": "ResNet50_-_{}-v0__v1__resnet_model__conv2d_51__kernel__read",
         "vgg19": "VGG19_-_{}-v0__v1__vgg_19__conv5__conv5_4__weights__read"}
# the article's model-zoo (pretrained) panel file of each architecture, of its layer in layers.ARTICLE (.panel)
_ZOO = {"googlenet": "InceptionV1_-_modelzoo-mixed5b_5x5_w",
        "resnet50": "ResNet50_-_modelzoo-resnet_v2_50__block4__unit_3__bottleneck_v2__conv2__weights__read",
        "vgg19": "VGG19_-_modelzoo-conv5_3__weights__read", "alexnet": "AlexNet_-_modelzoo-conv5__weights__read"}
PANELS = {**{key: f"{name}__weights__read" for key, name in _SIMPLIFIED.items()},
          **{(f"{arch}_{variant}", ARTICLE[arch].path): pattern.format(theirs) for arch, pattern in _ARCH.items()
             for variant, theirs in (("baseline", "baseline"), ("rotated", "90deg"), ("flatten", "fc-only"))},
          **{(f"{arch}_pretrained", ARTICLE[arch].panel): name for arch, name in _ZOO.items()}}


def _path(key: tuple[str, str]) -> Path:
    path = ROOT / "reduced_weights" / f"{PANELS[key]}.json"
    if not path.exists():
        raise FileNotFoundError(f"the article's panel {path} is missing: the repository's article-figures/ folder "
                                "holds it (restore it with `git checkout article-figures`)")
    return path


@functools.lru_cache(maxsize=None)
def kernels(run: str, layer: str) -> np.ndarray:
    """The article's panel of (run, layer) as kernels (N, 3, kh, kw) in [0, 1], in the article's neuron order."""
    data = json.loads(_path((run, layer)).read_text())
    tags = [tag for row in data["reduced_weights"] for tag in row]
    pictures = []
    for tag in tags:
        b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", tag).group(1)
        img = Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB")
        pictures.append(np.asarray(img, dtype=np.float64).transpose(2, 0, 1) / 255.0)
    return np.stack(pictures)


@functools.lru_cache(maxsize=None)
def score(run: str, layer: str) -> metrics.Score:
    """The article's panel of (run, layer) scored by this book's metric (colours pooled per neuron)."""
    return metrics.score(kernels(run, layer))


def shares() -> dict:
    """{(run, layer): (row, col)} of every panel, measured on the article's pictures by this book's metric."""
    return {key: (score(*key).row, score(*key).col) for key in PANELS}


def reduction(run: str, layer: str):
    """The article's panel of (run, layer) as a reduce.Reduction (its pictures; no factors behind them), so that the
    book's drawing functions (plots.side_by_side, strip_html) show it as they show ours, scored by the same metric."""
    import torch

    from .reduce import Reduction

    pictures = torch.from_numpy(np.moveaxis(kernels(run, layer), 1, -1).copy()).float()  # (N, kh, kw, 3)
    n = len(pictures)
    return Reduction(pictures=pictures, spatial=pictures, channels=torch.zeros(n, 3, 1), error=torch.zeros(n))
