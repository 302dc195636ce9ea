"""The article's augmentation and its data interventions, on the training device: uint8 batches (data.py's) in,
normalized float batches out. Random-resized crop + horizontal flip (one batched affine resampling), the data
interventions (rotation by 90 degrees of every image, random rotation, random vertical flip) and normalization.
Tensors are NCHW; y is the H axis (dim -2), x the W axis (dim -1).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MEAN = (0.485, 0.456, 0.406)  # ImageNet channel statistics, RGB
STD = (0.229, 0.224, 0.225)


def augment(x: torch.Tensor, out_size: int | None = None, *, train: bool, rotate90: bool = False,
            crop_scale: tuple[float, float] = (0.25, 1.0), hflip: bool = True, random_rotation: float = 0.0,
            vflip: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 batch (B, 3, H, W) -> normalized float (B, 3, out, out), on x's device.

    rotate90: every image (train and val) turned 90 degrees counter-clockwise (the article's
    intervention; the top row becomes the left column), *after* the augmentation, so a rotated run sees
    exactly the baseline's images rotated: its random flips are along the photo's own x axis, as the
    baseline's. (Rotating first would flip the photos upside down half the time, destroying the very
    up/down asymmetry the intervention is meant to turn sideways.) Train only: random-resized crop with
    area share in `crop_scale`, horizontal flip, and the follow-up interventions random_rotation (uniform
    angle in +-degrees) and vflip (vertical flip with p=0.5), all in one affine resampling; pixels
    outside the photo become the mean colour (0 after normalization)."""
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise ValueError(f"augment takes a uint8 batch (B, 3, H, W), got {x.dtype} {tuple(x.shape)}")
    out = _augment(x, out_size or x.shape[-1], train, crop_scale, hflip, random_rotation, vflip, generator)
    return torch.rot90(out, 1, dims=(-2, -1)) if rotate90 else out


def _augment(x, out_size, train, crop_scale, hflip, random_rotation, vflip, generator):
    mean = torch.tensor(MEAN, device=x.device)[:, None, None]
    std = torch.tensor(STD, device=x.device)[:, None, None]
    x = (x.float() / 255 - mean) / std
    if not train:
        if x.shape[-1] != out_size or x.shape[-2] != out_size:
            x = F.interpolate(x, size=(out_size, out_size), mode="bilinear", antialias=True, align_corners=False)
        return x
    B, dev = x.shape[0], x.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator).to(dev)

    scale = (crop_scale[0] + (crop_scale[1] - crop_scale[0]) * rand(B)).sqrt()  # side share of the crop
    tx, ty = (1 - scale) * (2 * rand(B) - 1), (1 - scale) * (2 * rand(B) - 1)
    angle = math.radians(random_rotation) * (2 * rand(B) - 1)
    fx = torch.where(rand(B) < 0.5, -1.0, 1.0) if hflip else torch.ones(B, device=dev)
    fy = torch.where(rand(B) < 0.5, -1.0, 1.0) if vflip else torch.ones(B, device=dev)
    cos, sin = angle.cos() * scale, angle.sin() * scale
    theta = torch.stack([torch.stack([cos * fx, -sin * fy, tx], 1),
                         torch.stack([sin * fx, cos * fy, ty], 1)], 1)  # (B, 2, 3): output -> input coords
    grid = F.affine_grid(theta, (B, 3, out_size, out_size), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
