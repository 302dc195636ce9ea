"""Why a head bands 5b by construction, or not: the shape of 5b's weight gradient at initialization.

A head that averages 5b's map over x passes back a gradient that is the same at every x of a row (up to padding
and the ReLU mask), so every update to 5b's kernels is a horizontal band before any photo has been learned from:
x-pooling's strong banding may come from its head, not from the photos. The control: the row / column share of
5b's weight gradient (the same metric as the weights', metrics.score) of each head at initialization, on photos
with their labels and on noise with random labels, and a y-only pooling head as the mirror image. Computed by the
scores step (`gradients`), written beside scores.csv as gradients.csv; the pages only read it.
"""
from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

from . import config as cfg
from . import augment, data, metrics, networks

# the heads of the simplified net's runs, by the run that trains each (one run a head)
HEAD_RUNS = ("baseline", "flatten", "x_pool", "y_pool", "xy_pool", "masks3", "mask_full", "attention", "groups",
             "maxpool_fc")
LAYER = "block5.b"


def gradient_share(config: dict, images: torch.Tensor, labels: torch.Tensor, num_classes: int, *, seed: int = 0,
                   batch_size: int = 64) -> metrics.Score:
    """The banding score of 5b's weight gradient, summed over the batches of `images` (uint8, decoded size) with
    `labels`, for a network of `config` freshly initialized from `seed` (training mode: batch norm on batch
    statistics, as in the first step of training; the run's data interventions applied, no random crops)."""
    torch.manual_seed(seed)
    model, _ = networks.build(config, num_classes)
    model.train()
    rotate90 = bool(config["data"].get("rotate90"))  # the heads' runs use no other data intervention
    for i in range(0, len(images), batch_size):
        x = augment.augment(images[i:i + batch_size], config["model"]["in_size"], train=False,
                            rotate90=rotate90)
        F.cross_entropy(model(x), labels[i:i + batch_size], reduction="sum").backward()
    grad = dict(model.named_modules())[LAYER].conv.weight.grad
    return metrics.score(grad, n_boot=200)


def val_photos(config: dict, n: int = 256) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(uint8 photos, labels, number of classes): a fixed class-stratified subset (data.stratified_subset) of the
    run's validation split, at the decoded size. Reads only the val split (the synthetic set is generated as
    training does). The position probe's photos too (probe.probe_photos)."""
    from . import train

    if config["data"]["dataset"] == "synthetic":
        val = train.load_data(config, progress=False)[1]
    else:
        val = data.open_split(config["data"]["dataset"], "val", config["train"]["image_size"],
                              root=config["paths"]["data_root"], stream=False, progress=False)
    idx = data.stratified_subset(val.labels, n)
    return val.images[idx], val.labels[idx], int(val.labels.max()) + 1


def noise_photos(n: int, size: int, num_classes: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` photos of i.i.d. uniform noise (uint8, size x size) with random labels: no structure, no position."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8),
            torch.randint(0, num_classes, (n,), generator=g))


def table(profile: str, photos: torch.Tensor, labels: torch.Tensor, num_classes: int, seeds=(0, 1)) -> pd.DataFrame:
    """One row per (head's run, inputs, seed): the row / column share of 5b's weight gradient at initialization on
    `photos` (with their labels) and on as many noise photos with random labels."""
    noise, noise_labels = noise_photos(len(photos), photos.shape[-1], num_classes)
    rows = []
    for preset in HEAD_RUNS:
        for seed in seeds:
            config = cfg.resolve(preset, profile, seed)
            for inputs, (x, y) in (("photos", (photos, labels)), ("noise, random labels", (noise, noise_labels))):
                s = gradient_share(config, x, y, num_classes, seed=seed)
                rows.append({"profile": profile, "preset": preset, "head": config["model"]["head"], "inputs": inputs,
                             "seed": seed, "row": s.row, "col": s.col, "null": s.null})
    return pd.DataFrame(rows)


def photo_structure(config: dict) -> dict:
    """The photos' own vertical structure: how much brighter the top eighth of the run's training photos is than
    their bottom eighth, in grey levels (0-255), and the same for left against right (no up/down cue: ~0)."""
    from . import train

    images = train.load_data(config, progress=False)[0].images
    grey = images.float().mean(dim=1)  # (N, H, W)
    e = grey.shape[-1] // 8
    return {"dataset": config["data"]["dataset"], "photos": len(images),
            "top minus bottom": float(grey[:, :e].mean() - grey[:, -e:].mean()),
            "left minus right": float(grey[:, :, :e].mean() - grey[:, :, -e:].mean())}
