"""The book's numbers as data: every score a page shows goes to one CSV (`book/scores.csv`), so readers
and tests can check the book's claims without rerunning anything.

One row per (page, run, seed, layer, kind); a page that runs again replaces its own rows only. Pages run in
parallel (make -j): the file is rewritten under a lock, atomically.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pandas as pd

COLUMNS = ["page", "run", "seed", "layer", "kind", "row", "col", "row_lo", "row_hi", "col_lo", "col_hi",
           "val_top1", "steps", "profile"]


def score_rows(frame: pd.DataFrame, runs, page: str) -> pd.DataFrame:
    """The rows of scores_frame(runs, ...) in COLUMNS order, with each run's seed, steps, profile and val.
    accuracy; the article's rows (kind "article") are left out (they are in banding_lib.article)."""
    by_folder = {r.path.name: r for r in runs}
    out = frame[frame.kind != "article"].copy()
    run = [by_folder[folder] for folder in out["folder"]]
    out["run"] = [r.name for r in run]
    out["seed"] = [r.config["seed"] for r in run]
    out["steps"] = [r.metrics["steps"] for r in run]
    out["profile"] = [r.config["profile"] for r in run]
    out["val_top1"] = [r.metrics["final"]["val_top1"] for r in run]
    out["page"] = page
    return out[COLUMNS]


def record(rows: pd.DataFrame, path="scores.csv") -> Path:
    """Write `rows` (score_rows) into the CSV at `path`, replacing the rows their page wrote before."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=COLUMNS)
        keep = old[~old["page"].isin(set(rows["page"]))]
        table = pd.concat([keep, rows], ignore_index=True) if len(keep) else rows.reset_index(drop=True)
        table = table.sort_values(["page", "run", "seed", "layer", "kind"], kind="stable")
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        table.to_csv(tmp, index=False, float_format="%.6f")
        os.replace(tmp, path)
    return path


def seed_mean(rows: pd.DataFrame, preset: str, layer: str, kind: str = "NMF") -> dict:
    """Mean row / col over the seeds of `preset` at `layer` in score_rows output, with the seeds' range and
    mean val. accuracy: {row, col, row_min, row_max, col_min, col_max, seeds, val_top1}."""
    f = rows[(rows.run == preset) & (rows.layer == layer) & (rows.kind == kind)]
    if f.empty:
        raise KeyError(f"no {kind} score of {preset} at {layer} in these rows")
    return {"row": f.row.mean(), "col": f.col.mean(), "row_min": f.row.min(), "row_max": f.row.max(),
            "col_min": f.col.min(), "col_max": f.col.max(), "seeds": len(f), "val_top1": f.val_top1.mean()}


def describe_scores(s: dict) -> str:
    """'row 0.87 / col 0.08 (3 seeds, rows 0.85–0.89, cols 0.07–0.09; val. acc. 0.55)' from seed_mean."""
    spread = (f", rows {s['row_min']:.2f}–{s['row_max']:.2f}, cols {s['col_min']:.2f}–{s['col_max']:.2f}"
              if s["seeds"] > 1 else "")
    return (f"row {s['row']:.2f} / col {s['col']:.2f} ({s['seeds']} seed{'s' * (s['seeds'] > 1)}{spread}; "
            f"val. acc. {s['val_top1']:.2f})")


def profile_differences(config: dict, model, num_classes: int) -> pd.DataFrame:
    """A table (one row per aspect): every way a run's simplified net and training differ from the article's, with why.
    Numbers come from the run's config and model; the article's from ARTICLE.md (its diagram and text)."""
    from . import models

    m, t = config["model"], config["train"]
    article_net = models.simplified_net(1001)
    convs = lambda net: ", ".join(f"{r['name'].removeprefix('block')} {r['kernel']}x{r['kernel']}"
                                  for r in models.describe(net) if r["kind"] == "conv")
    width = {r["name"]: r["out_channels"] for r in models.describe(model) if r["kind"] == "conv"}
    chan = lambda net: ", ".join(str(r["out_channels"]) for r in models.describe(net) if r["kind"] == "conv")
    rows = [
        ("photos", "ImageNet, 1.28 M images, 1001 classes", f"`{config['data']['dataset']}`, {num_classes} classes",
         "what runs on a 2-core CPU; the download needs no account"),
        ("input", "224 px", f"{m['in_size']} px crops of {t['image_size']} px photos",
         "16x fewer pixels; with fewer pools the last map is the same"),
        ("conv layers", convs(article_net), convs(model),
         "the twelve-layer net learned slowly here; the shortened net keeps 0a, the pools, 5a, 5b, GAP, FC "
         "(depth in the scale study)" if len(width) < 12 else "as the article"),
        ("channels", chan(article_net), chan(model) + f" (width x{m['width']})", "CPU time (width in the scale study)"),
        ("L2 pools", "5", str(m["pools"]), f"last map {model.final_size}x{model.final_size}, as the article's 7x7"),
        ("conv init", "TF-Slim default", f"PyTorch default x{m['init_scale']}",
         "less initial noise left in the kernels after a short training (scale study: init scale 1)"),
        ("training", "90 epochs, batch 512 then 1024, 8 GPUs",
         f"{t['steps']} steps of batch {t['batch_size']} ({t['steps'] * t['batch_size']:,} images), SGD "
         f"Nesterov, LR {t['lr']:g}, cosine", "minutes per run (steps in the scale study)"),
        ("weight decay", "not stated", f"{t['weight_decay']:g}",
         "the lever the scale study found: with batch norm after each conv, decay sets the kernels' effective "
         "learning rate; at the usual 5e-4 this net hardly banded in 600 steps"),
        ("augmentation", "not stated", f"random crops of {t['crop_scale'][0]:g}–{t['crop_scale'][1]:g} of the area, "
         "horizontal flips", "the usual ImageNet recipe"),
    ]
    return pd.DataFrame(rows, columns=["", "the article", "this book", "why"]).set_index("")
