"""The data the book shows, assembled from loaded runs: scores per (run, layer, kind), the k-means clusters
of the reduced pictures, the profile-vs-article table, and the NMF reduction cache that feeds them.

Every score a page shows also goes to one CSV (`book/scores.csv`), so readers and tests can check the
book's claims without rerunning anything: one row per (page, run, seed, layer, kind); a page that runs
again replaces its own rows only. Pages run in parallel (make -j): the file is rewritten under a lock,
atomically.

Conventions: pictures are (N, kh, kw, 3) RGB in [0, 1] (reduce.Reduction.pictures); row 0 is the top of
a kernel (y grows downwards, as in NCHW).
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import metrics, reduce, results
from .article import ARTICLE_SHARES  # the article's shares of its own pictures, keyed (preset, layer)

KINDS = ("W", "dW", "NMF", "article")  # what a score is taken of: raw weight, minus init, NMF pictures, the article
COLUMNS = ["page", "run", "seed", "layer", "kind", "row", "col", "row_lo", "row_hi", "col_lo", "col_hi",
           "val_top1", "steps", "profile"]


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


# ---------------------------------------------------------------------------------- cached reduction
_REDUCTIONS: dict[str, reduce.Reduction] = {}


def reduction(w) -> reduce.Reduction:
    """reduce.reduce_weight(w), remembered in memory and on disk (<results root>/_reductions/<key>.pt, the
    key a hash of the weight's bytes and reduce.VERSION), so rebuilding the book reduces no layer twice.
    A cache file that fails to load is recomputed and replaced."""
    w = torch.as_tensor(w).detach().float().cpu().contiguous()
    digest = hashlib.sha256(f"{reduce.VERSION} {tuple(w.shape)}".encode())
    digest.update(w.numpy().tobytes())
    key = digest.hexdigest()[:24]
    if key in _REDUCTIONS:
        return _REDUCTIONS[key]
    path = results.results_root() / "_reductions" / f"{key}.pt"
    try:
        red = reduce.Reduction(**results.load_torch(path, "cached reduction"))
    except (FileNotFoundError, results.CorruptResults, TypeError):
        red = reduce.reduce_weight(w)
        results.save_torch(dataclasses.asdict(red), path)
    _REDUCTIONS[key] = red
    return red


def reduced(w) -> np.ndarray:
    """The NMF pictures (N, kh, kw, 3) of a conv weight (out, in, kh, kw): reduction(w).pictures."""
    return reduction(w).pictures.numpy()


def reduced_pictures(runs, layers=("block5.a", "block5.b")) -> dict:
    """{(run label, layer): pictures (N, kh, kw, 3)} of every run's tracked layers (NMF reduction)."""
    return {(label, layer): reduction(run.weights[layer]).pictures.numpy()
            for run, label in zip(runs, run_labels(runs)) for layer in layers if layer in run.weights}


# -------------------------------------------------------------------------------------------- scores
def scores_frame(runs, layers, kinds=("W", "dW", "NMF"), article=True) -> pd.DataFrame:
    """One row per (run, layer, kind): run, preset, layer, kind, row, col, row_lo, row_hi, col_lo, col_hi,
    null. "W" and "dW" come from run.metrics["final"]["banding"] (raw weight, weight minus init); "NMF"
    scores the reduced pictures of run.weights[layer] (see `reduction`); `folder` names the run's results
    folder (unique where labels repeat); "article" adds the
    article's published number where article.ARTICLE_SHARES has one (no interval). Layers a run lacks are skipped."""
    rows = []
    for run, label in zip(runs, run_labels(runs)):
        final = run.metrics.get("final", {}).get("banding", {})
        for layer in layers:
            if layer not in run.weights:
                continue
            base = {"run": label, "preset": run.name, "layer": layer, "folder": getattr(getattr(run, "path", None), "name", label)}
            null = None
            for kind in kinds:
                if kind == "NMF":
                    s = metrics.score(reduction(run.weights[layer]).pictures, pictures=True).as_dict()
                elif layer in final and kind in final[layer]:
                    s = final[layer][kind]
                else:
                    continue
                null = s["null"]
                rows.append({**base, "kind": kind, **{k: s[k] for k in
                             ("row", "col", "row_lo", "row_hi", "col_lo", "col_hi", "null")}})
            if article and (run.name, layer) in ARTICLE_SHARES:
                r, c = ARTICLE_SHARES[run.name, layer]
                if null is None:
                    kh, kw = run.weights[layer].shape[-2:]
                    null = metrics.null_share(kh, kw)
                rows.append({**base, "kind": "article", "row": r, "col": c, "row_lo": r, "row_hi": r,
                             "col_lo": c, "col_hi": c, "null": null})
    return pd.DataFrame(rows, columns=["run", "preset", "layer", "kind", "row", "col", "row_lo", "row_hi",
                                       "col_lo", "col_hi", "null", "folder"])


def score_table(rows) -> pd.DataFrame:
    """The scores as a readable table: one row per (run, layer), one column per kind, cells 'row / col'."""
    frame = pd.DataFrame(rows)
    frame["cell"] = [f"{r:.2f} / {c:.2f}" for r, c in zip(frame["row"], frame["col"])]
    table = frame.pivot_table(index=["run", "layer"], columns="kind", values="cell", aggfunc="first", sort=False)
    ordered = [k for k in KINDS if k in table.columns] + [k for k in table.columns if k not in KINDS]
    table = table[ordered].fillna("—")  # e.g. no article number: the article drew no picture of that layer
    table.columns.name = "row / column share"
    return table


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


SCORES_URL = "scores.csv"  # the CSV from any page: published at the book's root (html_extra_path in _config.yml),
#                            beside the executed notebooks in book/ (so the link also works in Binder and Colab)


def scores_link(page: str | None = None, what: str = "these numbers"):
    """An HTML line to show under a chart or table: a link to scores.csv (SCORES_URL) and, given `page`, the
    rows behind it ('Data: scores.csv, the rows where page is "03_interventions"'). Returns IPython's HTML."""
    import html

    from IPython.display import HTML

    rows = f', the rows where <code>page</code> is "{html.escape(page)}"' if page else ""
    return HTML(f'<p class="banding-data">Data behind {html.escape(what)}: <a href="{SCORES_URL}" download>'
                f'scores.csv</a>{rows}.</p>')


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
         "net keeps 0a, the pools, 5a, 5b, GAP, FC (depth in the scale study)" if len(width) < 12 else "as the article"),
        ("channels", chan(article_net), chan(model) + f" (width x{m['width']})", "CPU time (width in the scale study)"),
        ("L2 pools", "5", str(m["pools"]), f"last map {model.final_size}x{model.final_size}, as the article's 7x7"),
        ("conv init", "TF-Slim default", "PyTorch default" + (f" x{m['init_scale']:g}" if m["init_scale"] != 1 else ""),
         "the framework's own" if m["init_scale"] == 1 else "a smaller start (scale study: init scale 1)"),
        ("training", "90 epochs, batch 512 then 1024, 8 GPUs",
         f"{t['steps']} steps of batch {t['batch_size']} ({t['steps'] * t['batch_size']:,} images), SGD "
         f"Nesterov, LR {t['lr']:g}, cosine" + (f", label smoothing {t['label_smoothing']:g}" if t["label_smoothing"] else ""),
         "minutes per run, chosen by validation accuracy at a fixed CPU budget (recipe search, appendix)"),
        ("weight decay", "not stated", f"{t['weight_decay']:g}",
         "the usual value; 2e-2 made every head band while the nets barely learned (GAP over training, appendix)"
         if t["weight_decay"] <= 1e-3 else "strong: with batch norm after each conv, decay sets the kernels' "
         "effective learning rate (scale study)"),
        ("augmentation", "not stated", f"random crops of {t['crop_scale'][0]:g}–{t['crop_scale'][1]:g} of the area, "
         "horizontal flips", "the usual ImageNet recipe, no vertical flips or rotations (they remove the cue)"),
    ]
    return pd.DataFrame(rows, columns=["", "the article", "this book", "why"]).set_index("")
