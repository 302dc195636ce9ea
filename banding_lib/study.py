"""The scale study: how banding grows with training steps, width, depth, kernel size, input size and
augmentation, each varied alone around one point, at CPU scale. New science: the article never showed
how much training banding needs.

POINTS is the table of runs: each is a preset trained on a profile with `--set` overrides. `configs`
resolves them (trained with `python -m banding_lib train study --jobs 2`); `frame` reads the finished runs
back as one row per (point, seed, layer) with NMF row / col shares, CIs, val. accuracy and time.
"""
from __future__ import annotations

import pandas as pd
import torch

from . import metrics, models, results

K3 = (7, 3, 3, 3, 3, 3)  # 3x3 kernels after the 7x7 0a
LAYERS = ("block5.a", "block5.b")


def _point(axis, label, preset="baseline", seeds=(0,), **overrides):
    return {"axis": axis, "label": label, "preset": preset, "seeds": tuple(seeds), "set": overrides}


# One thing varied at a time around the profile (overrides of it); the first point is the profile itself,
# the same run as the book's baseline seed 0. Listed in the order they are trained.
POINTS = [
    _point("the profile", "the profile"),
    _point("the profile", "the profile, trained on images rotated 90°", "rotated"),
    _point("weight decay", "weight decay 5e-4 (the previous cpu profile)", weight_decay=5e-4),
    _point("weight decay", "weight decay 5e-3", weight_decay=5e-3),
    _point("weight decay", "weight decay 1e-2", weight_decay=1e-2),
    _point("weight decay", "weight decay 5e-2", weight_decay=5e-2),
    _point("steps", "300 steps", steps=300),
    _point("steps", "1200 steps", steps=1200),
    _point("depth", "short net: 0a 1a 2a 5a 5b (blocks 3-4 dropped)", blocks=list(models.SHORT_BLOCKS)),
    _point("kernel size", "3x3 kernels after 0a", kernels=K3),
    _point("width", "width 0.125", width=0.125),
    _point("width", "width 0.375", width=0.375),
    _point("input size", "40 px input (5x5 last map)", in_size=40, image_size=48),
    _point("input size", "80 px input (10x10 last map)", in_size=80, image_size=88),
    _point("augmentation", "crop area 0.08-1", crop_scale=[0.08, 1.0]),
    _point("augmentation", "crop area 0.6-1", crop_scale=[0.6, 1.0]),
    _point("init", "conv init scale 1", init_scale=1.0),
]


def configs(profile: str = "cpu", data_root=None) -> list[tuple[dict, dict]]:
    """[(point, resolved config)] for every point and seed."""
    from .train import resolve

    return [(p, resolve(p["preset"], profile, s, data_root=data_root, **p["set"])) for p in POINTS for s in p["seeds"]]


GPU_FLOPS = 100e12  # FLOP/s assumed for the GPU-minute estimate (an H100 sustains ~100-400 T in bf16)


def train_flops(config: dict, num_classes: int = 10) -> float:
    """FLOPs of one training image (forward + backward) of the run's model, counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    from .train import build_model

    model, _ = build_model(config, num_classes)
    x = torch.zeros(2, 3, config["model"]["in_size"], config["model"]["in_size"])
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / 2


def ensure(profile: str = "cpu", root=None, data_root=None, jobs: int = 2) -> pd.DataFrame:
    """Train the points the results lack (`jobs` at a time), then return frame(...)."""
    from .train import train_many

    todo = [c for _, c in configs(profile, data_root) if not results.is_finished(results.run_dir(c, root))]
    if todo and train_many(todo, root, jobs=jobs):
        raise RuntimeError("some runs of the scale study failed; see the log above")
    return frame(profile, root, data_root)


def frame(profile: str = "cpu", root=None, data_root=None) -> pd.DataFrame:
    """One row per finished (point, seed, layer): axis, label, preset, seed, layer, NMF row / col with 95 %
    CIs, null, val_top1, steps, cpu_min (training minutes of one CPU thread, as run: two runs sharing two
    cores), gpu_min_est (training FLOPs / GPU_FLOPS: an estimate, not a measurement), folder.
    Points not trained yet are left out."""
    from .plots import reduction

    rows = []
    for point, config in configs(profile, data_root):
        folder = results.run_dir(config, root)
        if not results.is_finished(folder):
            continue
        run = results.load_run(folder)
        flops = train_flops(config, run.metrics["num_classes"]) * run.metrics["images"]
        for layer in LAYERS:
            s = metrics.score(reduction(run.weights[layer]).pictures, pictures=True)
            rows.append({"axis": point["axis"], "label": point["label"], "preset": point["preset"],
                         "seed": config["seed"], "layer": layer, **{k: getattr(s, k) for k in
                         ("row", "col", "row_lo", "row_hi", "col_lo", "col_hi", "null")},
                         "val_top1": run.metrics["final"]["val_top1"], "steps": run.metrics["steps"],
                         "cpu_min": run.metrics["wall_s"] / 60, "gpu_min_est": flops / GPU_FLOPS / 60,
                         "folder": folder.name})
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The study as a readable table, one row per run (indexed by its label, seed added where not 0): what
    was varied, 5b row and column share with 95 % intervals, 5a row / col, val. accuracy, CPU-minutes, GPU-seconds (est.)."""
    ci = lambda v, lo, hi: f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
    rows = []
    for (axis, label, seed), g in frame.groupby(["axis", "label", "seed"], sort=False):
        a, b = (g[g.layer == layer].iloc[0] for layer in LAYERS)
        rows.append({"run": label + (f" (seed {seed})" if seed else ""), "varied": axis,
                     "5b row": ci(b.row, b.row_lo, b.row_hi), "5b col": ci(b.col, b.col_lo, b.col_hi),
                     "5a row / col": f"{a.row:.2f} / {a.col:.2f}", "val. acc.": round(b.val_top1, 3),
                     "CPU-min": round(b.cpu_min, 1), "GPU-s (est.)": round(b.gpu_min_est * 60, 2)})
    return pd.DataFrame(rows).set_index("run")
