"""The tables the book shows: the rows of the scores step's table a page shows (`shown`, `score_table`), the
k-means clusters of the reduced pictures, the profile-vs-article table.

Conventions: pictures are (N, kh, kw, 3) RGB in [0, 1] (reduce.Reduction.pictures); row 0 is the top of
a kernel (y grows downwards, as in NCHW).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .article import article_shares

KINDS = ("W", "dW", "NMF", "article")  # what a score is taken of: raw weight, minus init, NMF pictures, the article


# ----------------------------------------------------------------------------------------------- helpers
def as_numpy(x) -> np.ndarray:
    """A tensor (detached, on the CPU) or array-like as a NumPy array."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def as_pictures(pictures) -> np.ndarray:
    """pictures (N, kh, kw, 3) as float64; a ValueError names any other shape."""
    p = as_numpy(pictures).astype(np.float64)
    if p.ndim != 4 or p.shape[-1] != 3:
        raise ValueError(f"expected pictures shaped (N, kh, kw, 3), got shape {p.shape}")
    return p


def hex_colours(rgb) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> array of '#rrggbb' strings shaped (...)."""
    v = np.clip(np.rint(as_numpy(rgb).astype(np.float64) * 255), 0, 255).astype(np.int64)
    flat = v.reshape(-1, 3)
    codes = flat[:, 0] << 16 | flat[:, 1] << 8 | flat[:, 2]
    return np.array([f"#{c:06x}" for c in codes]).reshape(v.shape[:-1])


def run_labels(runs) -> list[str]:
    """One label per run: its preset, with seed and then profile added where presets repeat."""
    names = [r.name for r in runs]
    labels = []
    for r in runs:
        label = r.name
        if names.count(r.name) > 1:
            same = [o for o in runs if o.name == r.name]
            label += f" s{r.config.get('seed', '?')}"
            if [f"{o.name} s{o.config.get('seed', '?')}" for o in same].count(label) > 1:
                label += f" {r.config.get('profile', '')}"
        labels.append(label)
    return labels


# -------------------------------------------------------------------------------------------- scores
def shown(frame: pd.DataFrame, presets, layers, kinds=("W", "dW", "NMF"), seeds=None, article=True) -> pd.DataFrame:
    """The rows of the scores step's table (banding_lib.scores) a page shows: the book's runs of `presets`
    (every seed, or `seeds` only), at `layers`, of `kinds`, each with a `run` label (its preset, " s<seed>"
    added where a preset shows several seeds); with `article`, the article's number of each (preset, layer)
    it drew, as kind "article" (no interval)."""
    f = frame[frame.book & frame.preset.isin(presets) & frame.layer.isin(layers) & frame.kind.isin(kinds)]
    f = (f if seeds is None else f[f.seed.isin(seeds)]).copy()
    several = f.groupby("preset").seed.transform("nunique") > 1
    f["run"] = f.preset + np.where(several, " s" + f.seed.astype(str), "")
    order = {p: i for i, p in enumerate(presets)}
    f = f.sort_values(["preset", "seed", "layer"], key=lambda c: c.map(order) if c.name == "preset" else c, kind="stable")
    if article:
        shares = article_shares()
        paper = [{**first, "kind": "article", "row": shares[key][0], "col": shares[key][1], "row_lo": shares[key][0],
                  "row_hi": shares[key][0], "col_lo": shares[key][1], "col_hi": shares[key][1]}
                 for key, first in ((k, g.iloc[0].to_dict()) for k, g in f.groupby(["preset", "layer"], sort=False))
                 if key in shares]
        f = pd.concat([f, pd.DataFrame(paper, columns=f.columns)], ignore_index=True)
    return f


def score_table(rows) -> pd.DataFrame:
    """The scores as a readable table: one row per (run, layer), one column per kind ("W row / col", ...), cells
    'row / col'."""
    frame = pd.DataFrame(rows)
    frame["cell"] = [f"{r:.2f} / {c:.2f}" for r, c in zip(frame["row"], frame["col"])]
    table = frame.pivot_table(index=["run", "layer"], columns="kind", values="cell", aggfunc="first", sort=False)
    ordered = [k for k in KINDS if k in table.columns] + [k for k in table.columns if k not in KINDS]
    table = table[ordered].fillna("—")  # e.g. no article number: the article drew no picture of that layer
    table.columns = [f"{k} row / col" for k in table.columns]  # each header over its own column
    return table


SCORES_URL = "scores.csv"  # the CSV from any page: published at the book's root (html_extra_path in _config.yml),
#                            beside the executed notebooks in book/ (so the link also works in Binder and Colab)


def scores_link(presets=(), what: str = "these numbers"):
    """An HTML line to show under a chart or table: a link to scores.csv (SCORES_URL) and, given `presets`, the
    rows behind it ('Data behind figure 6: scores.csv, the rows where preset is "rotated"'). IPython's HTML."""
    import html

    from IPython.display import HTML

    names = " or ".join(f'"{html.escape(p)}"' for p in presets)
    rows = f", the rows where <code>preset</code> is {names}" if presets else ""
    return HTML(f'<p class="banding-data">Data behind {html.escape(what)}: <a href="{SCORES_URL}" download>'
                f'scores.csv</a>{rows}.</p>')


def describe_scores(s) -> str:
    """'row 0.87 / col 0.08 (3 seeds, rows 0.85–0.89, cols 0.07–0.09; val. acc. 0.55)' from scores.seed_mean."""
    spread = (f", rows {s['row_min']:.2f}–{s['row_max']:.2f}, cols {s['col_min']:.2f}–{s['col_max']:.2f}"
              if s["seeds"] > 1 else "")
    return (f"row {s['row']:.2f} / col {s['col']:.2f} ({s['seeds']} seed{'s' * (s['seeds'] > 1)}{spread}; "
            f"val. acc. {s['val_top1']:.2f})")


# ------------------------------------------------------------------------------------------ clusters
def cluster_table(pictures_by_group, k_range=range(4, 20), seed=0, n_init=3) -> pd.DataFrame:
    """k-means clusters of the normalized reduced weights, for every k in k_range (the article's appendix).

    pictures_by_group: {(run, layer): pictures (N, kh, kw, 3)}, all of one kernel size. Each picture is
    flattened and L2-normalised; all groups are clustered together. Clusters are numbered by size,
    largest first. Returns one row per (k, cluster, run, layer): neurons, percent (of that run-layer's
    neurons; sums to 100 per k and group), and the cluster's centroid picture as `centroid` (kh*kw
    space-separated '#rrggbb', row-major, scaled to its maximum) with kh, kw."""
    from sklearn.cluster import KMeans

    groups = list(pictures_by_group)
    pics = [as_pictures(pictures_by_group[g]) for g in groups]
    shapes = {p.shape[1:] for p in pics}
    if len(shapes) != 1:
        raise ValueError(f"all pictures must share one kernel size to be clustered together, got {sorted(shapes)}")
    kh, kw, _ = shapes.pop()
    x = np.concatenate([p.reshape(len(p), -1) for p in pics])  # (total neurons, kh*kw*3)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(pics)])
    sizes = np.bincount(owner, minlength=len(groups))
    out = []
    for k in k_range:
        if k > len(x):
            raise ValueError(f"k={k} exceeds the {len(x)} neurons to cluster")
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
        rank = np.argsort(np.argsort(-np.bincount(km.labels_, minlength=k), kind="stable"))  # cluster -> size rank
        labels = rank[km.labels_]
        centres = km.cluster_centers_[np.argsort(rank)].reshape(k, kh, kw, 3).clip(min=0)
        centres /= np.maximum(centres.reshape(k, -1).max(axis=1), 1e-12)[:, None, None, None]
        hexes = [" ".join(hex_colours(c).ravel()) for c in centres]
        counts = np.zeros((len(groups), k), dtype=np.int64)
        np.add.at(counts, (owner, labels), 1)
        for gi, (run, layer) in enumerate(groups):
            for c in range(k):
                out.append({"k": k, "cluster": c, "run": run, "layer": layer, "neurons": int(counts[gi, c]),
                            "percent": 100.0 * counts[gi, c] / sizes[gi], "centroid": hexes[c], "kh": kh, "kw": kw})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------------- profile table
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
         "at the same CPU budget the twelve-layer net learned far less (recipe search, appendix); the shortened "
         "net keeps 0a, the pools, 5a, 5b, GAP, FC" if len(width) < 12 else "as the article"),
        ("channels", chan(article_net), chan(model) + f" (width x{m['width']})", "CPU time"),
        ("L2 pools", "5", str(m["pools"]), f"last map {model.final_size}x{model.final_size}, as the article's 7x7"),
        ("conv init", "TF-Slim default", "PyTorch default" + (f" x{m['init_scale']:g}" if m["init_scale"] != 1 else ""),
         "the framework's own" if m["init_scale"] == 1 else "a smaller start (scale study: init scale 1)"),
        ("training", "90 epochs, batch 512 then 1024, 8 GPUs",
         f"{t['steps']} steps of batch {t['batch_size']} ({t['steps'] * t['batch_size']:,} images), SGD "
         f"Nesterov, LR {t['lr']:g}, cosine" + (f", label smoothing {t['label_smoothing']:g}" if t["label_smoothing"] else ""),
         "minutes per run, chosen by validation accuracy at a fixed CPU budget (recipe search, appendix)"),
        ("weight decay", "not stated", f"{t['weight_decay']:g}",
         "the usual value; 2e-2 made every head band while the nets barely learned (an earlier build of this book)"
         if t["weight_decay"] <= 1e-3 else "strong: with batch norm after each conv, decay sets the kernels' "
         "effective learning rate (scale study)"),
        ("augmentation", "not stated", f"random crops of {t['crop_scale'][0]:g}–{t['crop_scale'][1]:g} of the area, "
         "horizontal flips", "the usual ImageNet recipe, no vertical flips or rotations (they remove the cue)"),
    ]
    return pd.DataFrame(rows, columns=["", "the article", "this book", "why"]).set_index("")


# -------------------------------------------------------------------------------------- position probe
def probe_table(frame: pd.DataFrame, probes: pd.DataFrame, features: str = "head") -> pd.DataFrame:
    """One row per probed run (trained, and the random-init nulls): preset, seed, weights, 5b's NMF row / col
    and log2 row/col ratio (the run's trained weights), vertical and horizontal probe accuracy of `features`
    with 95 % intervals, and their difference (vertical minus horizontal)."""
    p = probes[probes.features == features]
    wide = p.pivot_table(index=["run", "preset", "seed", "weights"], columns="axis",
                         values=["accuracy", "lo", "hi", "chance"]).reset_index()
    wide.columns = ["_".join(c for c in col if c) for col in wide.columns]
    nmf = frame[(frame.kind == "NMF") & (frame.layer == "block5.b")].set_index("folder")
    wide["row"], wide["col"] = nmf.row.reindex(wide.run).to_numpy(), nmf.col.reindex(wide.run).to_numpy()
    wide["log2_ratio"] = np.log2(wide.row / wide.col)
    wide["v_minus_h"] = wide.accuracy_y - wide.accuracy_x
    wide["chance"] = wide.chance_y
    return wide[["preset", "seed", "weights", "row", "col", "log2_ratio", "accuracy_y", "lo_y", "hi_y",
                 "accuracy_x", "lo_x", "hi_x", "v_minus_h", "chance", "run"]]
