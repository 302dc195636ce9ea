"""Altair charts of loaded results, and the renderer that lets the book draw them with no network.

Plot functions take loaded runs, pictures or tables and return a chart; they never train. Big tables are
embedded as inline CSV (one short line per pixel, no per-row JSON keys), so a 512-neuron 5x5 layer is
~250 KB and altair's 5000-row limit does not apply.

Conventions: pictures are (N, kh, kw, 3) RGB in [0, 1] (reduce.Reduction.pictures); row 0 is the top of
a kernel (y grows downwards, as in NCHW); a neuron is addressed as "layer:index".

Offline rendering: `write_js_bundle()` writes vega + vega-lite + vega-embed (one file, from vl-convert,
matched to altair's Vega-Lite version) to book/_static/; `use_offline_renderer()` makes every chart
output an HTML snippet that loads that file from the page's `_static/` folder instead of a CDN.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html as _html
import io
import json
import math
import uuid
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import torch

from . import metrics, reduce, results
from .article import ARTICLE_SHARES  # the article's shares of its own pictures, keyed (preset, layer)

KIND_SHAPES = {"W": "circle", "dW": "square", "NMF": "triangle-up", "article": "diamond"}
MEASURE_COLOURS = {"row share": "#1f77b4", "column share": "#d62728"}
NO_FRAME = alt.ViewBackground(stroke=None)  # views drawn as pictures: no grey frame (composable, unlike configure_view)


# ----------------------------------------------------------------------------------------------- helpers
def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _pictures(pictures) -> np.ndarray:
    p = _numpy(pictures).astype(np.float64)
    if p.ndim != 4 or p.shape[-1] != 3:
        raise ValueError(f"expected pictures shaped (N, kh, kw, 3), got shape {p.shape}")
    return p


def hex_colours(rgb) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> array of '#rrggbb' strings shaped (...)."""
    v = np.clip(np.rint(_numpy(rgb).astype(np.float64) * 255), 0, 255).astype(np.int64)
    flat = v.reshape(-1, 3)
    codes = flat[:, 0] << 16 | flat[:, 1] << 8 | flat[:, 2]
    return np.array([f"#{c:06x}" for c in codes]).reshape(v.shape[:-1])


def inline_csv(frame: pd.DataFrame) -> alt.Data:
    """A DataFrame as inline CSV data: compact, typed (numeric columns parsed as numbers), no row limit."""
    parse = {c: "number" for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    return alt.Data(values=frame.to_csv(index=False, float_format="%.4g"),
                    format=alt.DataFormat(type="csv", parse=parse or None))


def inline_frame(chart_or_data) -> pd.DataFrame:
    """The table behind inline CSV data (for tests and inspection): a chart's top-level data, or a spec dict."""
    d = chart_or_data.to_dict() if hasattr(chart_or_data, "to_dict") else chart_or_data
    d = d.get("data", d)
    return pd.read_csv(io.StringIO(d["values"]))


def short_layer(name: str) -> str:
    """'block5.b' -> '5b'; other names unchanged."""
    if name.startswith("block") and "." in name:
        group, letter = name[len("block"):].split(".", 1)
        return f"{group}{letter}"
    return name


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


def _get(score, key):
    return score[key] if isinstance(score, dict) else getattr(score, key)


def score_line(score) -> str:
    """'row share 0.82 [0.79, 0.85] · column share 0.16 [...] · noise 0.17' from a Score or its dict."""
    return (f"row share {_get(score, 'row'):.2f} [{_get(score, 'row_lo'):.2f}, {_get(score, 'row_hi'):.2f}]"
            f" · column share {_get(score, 'col'):.2f} [{_get(score, 'col_lo'):.2f}, {_get(score, 'col_hi'):.2f}]"
            f" · noise {_get(score, 'null'):.2f}")


def _title(title, subtitle=None):
    if title is None and subtitle is None:
        return alt.Undefined
    return alt.TitleParams(text=title or "", subtitle=subtitle or alt.Undefined, anchor="start")


# ------------------------------------------------------------------------------------------ weight grid
def pixel_table(pictures, order=None, columns=16, gap=1) -> pd.DataFrame:
    """One row per pixel of every shown neuron: n (neuron index), slot (display position), x, y (grid
    position in pixel cells, neurons `gap` cells apart), px, py (position inside the kernel, py = row)
    and c (hex colour). Neurons appear in `order` (default 0..N-1; a subset shows only those)."""
    p = _pictures(pictures)
    n_all, kh, kw, _ = p.shape
    order = np.arange(n_all) if order is None else np.asarray(order, dtype=np.int64).reshape(-1)
    if order.size and (order.min() < 0 or order.max() >= n_all):
        raise ValueError(f"order holds indices outside 0..{n_all - 1}")
    slot, py, px = np.meshgrid(np.arange(order.size), np.arange(kh), np.arange(kw), indexing="ij")  # (S, kh, kw)
    return pd.DataFrame({
        "n": order[slot].ravel(), "slot": slot.ravel(),
        "x": ((slot % columns) * (kw + gap) + px).ravel(), "y": ((slot // columns) * (kh + gap) + py).ravel(),
        "px": px.ravel(), "py": py.ravel(), "c": hex_colours(p[order]).ravel(),
    })


def neuron_table(pictures, order=None) -> pd.DataFrame:
    """One row per shown neuron: n, slot, row and col (its picture's row / column variance share)."""
    p = _pictures(pictures)
    order = np.arange(len(p)) if order is None else np.asarray(order, dtype=np.int64).reshape(-1)
    rows, cols = metrics.picture_shares(p)
    return pd.DataFrame({"n": order, "slot": np.arange(order.size), "row": rows[order].round(3),
                         "col": cols[order].round(3)})


def weight_grid(pictures, scores=None, order=None, columns=16, pixel=6, title=None, gap=1) -> alt.Chart:
    """The article's weight figure: each neuron's (kh, kw) RGB picture drawn pixelated, `columns` neurons
    a row, in `order` (e.g. reduce.order_by_similarity(pictures)), `gap` blank cells between neurons.
    pictures (N, kh, kw, 3) in [0, 1]; scores: the layer's metrics.Score (or its dict), shown under the
    title. Tooltip: neuron index and its row / column share. pixel: screen pixels per kernel cell."""
    p = _pictures(pictures)
    pixels = pixel_table(p, order, columns, gap)
    neurons = neuron_table(p, order)
    _, kh, kw, _ = p.shape
    shown = len(neurons)
    ncols, nrows = min(columns, max(shown, 1)), max(1, math.ceil(shown / columns))
    return alt.Chart(inline_csv(pixels[["n", "x", "y", "c"]]), title=_title(title, scores and score_line(scores))).mark_rect(
        strokeWidth=0,
    ).transform_lookup(
        lookup="n", from_=alt.LookupData(inline_csv(neurons[["n", "row", "col"]]), key="n", fields=["row", "col"]),
    ).transform_calculate(
        x0=f"datum.x * {pixel}", x1=f"(datum.x + 1) * {pixel}", y0=f"datum.y * {pixel}", y1=f"(datum.y + 1) * {pixel}",
    ).encode(
        x=alt.X("x0:Q", scale=None, axis=None), x2="x1:Q",
        y=alt.Y("y0:Q", scale=None, axis=None), y2="y1:Q",
        color=alt.Color("c:N", scale=None),
        tooltip=[alt.Tooltip("n:Q", title="neuron"), alt.Tooltip("row:Q", title="row share", format=".2f"),
                 alt.Tooltip("col:Q", title="column share", format=".2f")],
    ).properties(
        width=(ncols * (kw + gap) - gap) * pixel, height=(nrows * (kh + gap) - gap) * pixel, view=NO_FRAME,
    )


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


def layer_grid(w, title=None, columns=16, pixel=6, gap=1) -> alt.Chart:
    """weight_grid of a raw conv weight (out, in, kh, kw): its NMF pictures, ordered by similarity, with
    the pictures' banding score under the title."""
    pictures = reduced(w)
    return weight_grid(pictures, metrics.score(pictures, pictures=True), reduce.order_by_similarity(pictures),
                       columns=columns, pixel=pixel, title=title, gap=gap)


# ----------------------------------------------------------------------------------------- score chart
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
    ordered = [k for k in KIND_SHAPES if k in table.columns] + [k for k in table.columns if k not in KIND_SHAPES]
    table = table[ordered]
    table.columns.name = "row / column share"
    return table


def score_chart(rows, title=None) -> alt.FacetChart:
    """Row and column share per run, one panel per layer: a dot with its 95 % interval per kind
    (W raw weight, dW minus init, NMF pictures), the article's number as an open diamond, the noise
    level as a dashed rule. rows: scores_frame(...) or a list of its row dicts."""
    frame = pd.DataFrame(rows)
    runs = list(dict.fromkeys(frame["run"]))
    long = pd.concat([
        frame.assign(measure="row share", value=frame["row"], lo=frame["row_lo"], hi=frame["row_hi"]),
        frame.assign(measure="column share", value=frame["col"], lo=frame["col_lo"], hi=frame["col_hi"]),
    ])[["run", "layer", "kind", "null", "measure", "value", "lo", "hi"]]
    kinds = [k for k in KIND_SHAPES if k in set(long["kind"])]
    y = alt.Y("run:N", sort=runs, title=None)
    y_off = alt.YOffset("kind:N", sort=kinds)
    x = alt.X("value:Q", scale=alt.Scale(domain=[0, 1]), title="share of a kernel's spatial variance")
    colour = alt.Color("measure:N", title=None, scale=alt.Scale(domain=list(MEASURE_COLOURS),
                                                                  range=list(MEASURE_COLOURS.values())))
    shape = alt.Shape("kind:N", title="scored on", scale=alt.Scale(domain=kinds, range=[KIND_SHAPES[k] for k in kinds]))
    tip = [alt.Tooltip("run:N"), alt.Tooltip("kind:N"), alt.Tooltip("measure:N"),
           alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f")]
    measured = alt.datum.kind != "article"
    bars = alt.Chart().mark_rule(strokeWidth=1.5).transform_filter(measured).encode(
        y=y, yOffset=y_off, x=alt.X("lo:Q"), x2="hi:Q", color=colour)
    dots = alt.Chart().mark_point(filled=True, size=40).transform_filter(measured).encode(
        y=y, yOffset=y_off, x=x, color=colour, shape=shape, tooltip=tip)
    paper = alt.Chart().mark_point(filled=False, size=130, strokeWidth=2).transform_filter(~measured).encode(
        y=y, yOffset=y_off, x=x, color=colour, shape=shape, tooltip=tip)
    noise = alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(
        x=alt.X("mean(null):Q"), tooltip=[alt.Tooltip("mean(null):Q", title="noise level", format=".3f")])
    layer_sort = list(dict.fromkeys(frame["layer"]))
    return alt.layer(noise, bars, dots, paper, data=long).properties(width=420, height=alt.Step(9)).facet(
        row=alt.Row("layer:N", sort=layer_sort, title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        title=_title(title),
    )


# -------------------------------------------------------------------------------------- training curves
def training_curves(runs, layer="block5.b", kind="W") -> alt.HConcatChart:
    """Over training steps, one line per run: the layer's row (solid) and column (dashed) share of `kind`
    ("W" raw weight or "dW" minus init) from run.metrics["history"], the training loss and the
    accuracy on the validation subset."""
    rows = []
    for run, label in zip(runs, run_labels(runs)):
        for rec in run.metrics.get("history", []):
            band = rec.get("banding", {})
            if layer not in band:
                raise KeyError(f"run {label} has no banding record for layer {layer!r}; it tracked {sorted(band)}")
            s = band[layer][kind]
            rows.append({"run": label, "step": rec["step"], "row share": s["row"], "column share": s["col"],
                         "noise": s["null"], "loss": rec.get("loss"), "accuracy": rec.get("val_top1_subset")})
    frame = pd.DataFrame(rows, columns=["run", "step", "row share", "column share", "noise", "loss", "accuracy"])
    shares = frame.melt(id_vars=["run", "step"], value_vars=["row share", "column share"], var_name="measure")
    colour = alt.Color("run:N", title="run")
    x = alt.X("step:Q", title="step")
    lines = alt.Chart(shares).mark_line().encode(
        x=x, y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title=f"share of variance, {short_layer(layer)} {kind}"),
        color=colour, strokeDash=alt.StrokeDash("measure:N", title=None, sort=["row share", "column share"]),
        tooltip=["run:N", "step:Q", "measure:N", alt.Tooltip("value:Q", format=".3f")])
    noise = alt.Chart(frame).mark_rule(strokeDash=[2, 2], color="gray").encode(y="mean(noise):Q")
    loss = alt.Chart(frame).mark_line().encode(x=x, y=alt.Y("loss:Q", title="training loss"), color=colour,
                                               tooltip=["run:N", "step:Q", alt.Tooltip("loss:Q", format=".3f")])
    acc = alt.Chart(frame).mark_line().encode(x=x, y=alt.Y("accuracy:Q", title="val. accuracy (subset)",
                                                           scale=alt.Scale(domain=[0, 1])), color=colour,
                                              tooltip=["run:N", "step:Q", alt.Tooltip("accuracy:Q", format=".3f")])
    size = dict(width=260, height=200)
    return alt.hconcat((lines + noise).properties(**size), loss.properties(**size), acc.properties(**size))


# --------------------------------------------------------------------------------- architecture diagram
def architecture_diagram(rows, head=None, highlight=("block5.a", "block5.b"), title=None) -> alt.LayerChart:
    """Figure 4 drawn from models.describe(model): one box per conv layer (width grows with the channel
    count, height with the map's side), a downward triangle per pool, and the head at the end. Labels
    read "5b 5x5, 512, 7x7". head: a label for the head (e.g. model.config["head"]); highlight: layers
    drawn darker (the ones the article looks at)."""
    rows = list(rows)
    convs = [r for r in rows if r["kind"] == "conv"]
    if not convs:
        raise ValueError("no conv layers in rows; pass models.describe(model)")
    max_c = max(r["out_channels"] for r in convs)
    max_s = max(r["size"] for r in convs)
    box_h = lambda s: 14 + 130 * s / max_s  # noqa: E731  map side -> px
    mid, x, items = box_h(max_s) / 2 + 6, 0.0, []
    for r in rows:
        if r["kind"] == "conv":
            w, h = 6 + 30 * math.sqrt(r["out_channels"] / max_c), box_h(r["size"])
            label = f"{short_layer(r['name'])} {r['kernel']}x{r['kernel']}, {r['out_channels']}, {r['size']}x{r['size']}"
            group = r["name"].split(".")[0]
        elif r["kind"] == "pool":
            w, h, label, group = 10, 10, f"pool → {r['size']}x{r['size']}", "pool"
        else:
            w, h = 18, 34
            label, group = f"{head + ' → ' if head else ''}FC {r['out_channels']}", "head"
        items.append({"name": r["name"], "kind": r["kind"], "group": group, "label": label,
                      "highlight": r["name"] in highlight,
                      "x0": x, "x1": x + w, "y0": mid - h / 2, "y1": mid + h / 2, "xc": x + w / 2})
        x += w + 9
    frame = pd.DataFrame(items)
    boxes = alt.Chart(frame).transform_filter(alt.datum.kind != "pool").mark_rect(stroke="#333", strokeWidth=0.7).encode(
        x=alt.X("x0:Q", scale=None, axis=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None, axis=None), y2="y1:Q",
        color=alt.Color("group:N", legend=None, scale=alt.Scale(scheme="pastel1")),
        opacity=alt.condition(alt.datum.highlight, alt.value(1.0), alt.value(0.55)),
        tooltip=["name:N", "label:N"])
    pools = alt.Chart(frame).transform_filter(alt.datum.kind == "pool").mark_point(
        shape="triangle-down", filled=True, size=70, color="#555").encode(
        x=alt.X("xc:Q", scale=None), y=alt.value(mid), tooltip=["name:N", "label:N"])
    labels = alt.Chart(frame).mark_text(angle=300, align="right", baseline="middle", fontSize=10, dx=-2).encode(
        x=alt.X("xc:Q", scale=None), y=alt.value(mid + box_h(max_s) / 2 + 8), text="label:N")
    return alt.layer(boxes, pools, labels, title=_title(title)).properties(
        width=int(x) + 10, height=int(2 * mid + 95), view=NO_FRAME)


# ----------------------------------------------------------------------------------- cluster summary
def reduced_pictures(runs, layers=("block5.a", "block5.b")) -> dict:
    """{(run label, layer): pictures (N, kh, kw, 3)} of every run's tracked layers (NMF reduction)."""
    return {(label, layer): reduction(run.weights[layer]).pictures.numpy()
            for run, label in zip(runs, run_labels(runs)) for layer in layers if layer in run.weights}


def cluster_table(pictures_by_group, k_range=range(4, 20), seed=0, n_init=3) -> pd.DataFrame:
    """k-means clusters of the normalized reduced weights, for every k in k_range (the article's appendix).

    pictures_by_group: {(run, layer): pictures (N, kh, kw, 3)}, all of one kernel size. Each picture is
    flattened and L2-normalised; all groups are clustered together. Clusters are numbered by size,
    largest first. Returns one row per (k, cluster, run, layer): neurons, percent (of that run-layer's
    neurons; sums to 100 per k and group), and the cluster's centroid picture as `centroid` (kh*kw
    space-separated '#rrggbb', row-major, scaled to its maximum) with kh, kw."""
    from sklearn.cluster import KMeans

    groups = list(pictures_by_group)
    pics = [_pictures(pictures_by_group[g]) for g in groups]
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


def cluster_summary(table, k=None, step=34, title=None) -> alt.VConcatChart:
    """The appendix figure from cluster_table(...): for the k picked by a slider (a Vega-Lite param, so it
    works in a static page), each cluster's centroid picture above a heatmap of the % of each run-layer's
    neurons in it."""
    table = pd.DataFrame(table)
    ks = sorted(table["k"].unique())
    k0 = int(k if k is not None else min(max(8, ks[0]), ks[-1]))
    kh, kw = int(table["kh"].iloc[0]), int(table["kw"].iloc[0])
    k_param = alt.param(name="k", value=k0, bind=alt.binding_range(min=int(ks[0]), max=int(ks[-1]), step=1,
                                                                   name="number of clusters k "))
    share = table[["k", "cluster", "run", "layer", "percent"]].assign(
        group=[f"{r} · {short_layer(l)}" for r, l in zip(table["run"], table["layer"])], percent=table["percent"].round(1))
    cents = table.drop_duplicates(["k", "cluster"])
    cells = []
    for kk, c, hexes in zip(cents["k"], cents["cluster"], cents["centroid"]):
        for i, h in enumerate(hexes.split()):
            cells.append((kk, c, i % kw, i // kw, h))
    cells = pd.DataFrame(cells, columns=["k", "cluster", "px", "py", "c"])
    # Centroid pictures in screen pixels, centred in their cluster's band of the heatmap below (band c
    # spans [c * step, (c + 1) * step)), so the two views line up for every k.
    cell = (step - 6) / max(kh, kw)
    x0 = "datum.cluster * {s} + {m} + datum.px * {c}".format(s=step, m=(step * 0.92 - kw * cell) / 2, c=cell)
    pictures = alt.Chart(inline_csv(cells)).mark_rect().transform_filter("datum.k == k").transform_calculate(
        x0=x0, x1=f"{x0} + {cell}", y0=f"datum.py * {cell}", y1=f"(datum.py + 1) * {cell}").encode(
        x=alt.X("x0:Q", scale=None, axis=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None, axis=None), y2="y1:Q",
        color=alt.Color("c:N", scale=None)).properties(width=int(ks[-1] * step), height=kh * cell, view=NO_FRAME)
    groups = list(dict.fromkeys(share["group"]))
    heat = alt.Chart(inline_csv(share.drop(columns=["run", "layer"]))).transform_filter("datum.k == k").encode(
        x=alt.X("cluster:O", title="cluster (largest first)", scale=alt.Scale(paddingInner=0.08, paddingOuter=0),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("group:N", sort=groups, title=None))
    rects = heat.mark_rect().encode(
        color=alt.Color("percent:Q", scale=alt.Scale(domain=[0, 100], scheme="blues"), title="% of neurons"),
        tooltip=["group:N", "cluster:O", alt.Tooltip("percent:Q", format=".1f")])
    text = heat.mark_text(fontSize=9).encode(
        text=alt.Text("percent:Q", format=".0f"),
        color=alt.condition("datum.percent > 55", alt.value("white"), alt.value("black")))
    return alt.vconcat(pictures, (rects + text).properties(width=alt.Step(step)), spacing=4,
                       title=_title(title)).add_params(k_param).resolve_scale(color="independent")


# ------------------------------------------------------------------------------ AlexNet fc6 by position
def position_profile_chart(profile, max_columns=512, title=None) -> alt.HConcatChart:
    """AlexNet fc6 by input position: profile (out, H) is each fc6 neuron's weight energy per input row y
    (e.g. sum of squares over channels and x of the weight viewed as (out, 256, 6, 6)). Left: each
    neuron's share of energy per row, neurons sorted by their energy-weighted mean row (binned to
    `max_columns` columns); right: the mean share per row with its interquartile band. Flat = no
    dependence on y; the uniform share 1/H is the dashed rule."""
    e = _numpy(profile).astype(np.float64)
    if e.ndim != 2:
        raise ValueError(f"expected profile shaped (out, H), got shape {e.shape}")
    out, h = e.shape
    share = e / np.maximum(e.sum(axis=1, keepdims=True), 1e-30)
    centre = share @ np.arange(h)
    share = share[np.argsort(centre, kind="stable")]
    bins = min(out, max_columns)
    edges = np.linspace(0, out, bins + 1).astype(int)
    binned = np.stack([share[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])  # (bins, H)
    col, yy = np.meshgrid(np.arange(bins), np.arange(h), indexing="ij")
    heat_frame = pd.DataFrame({"col": col.ravel(), "y": yy.ravel(), "share": binned.ravel().round(4)})
    heat = alt.Chart(inline_csv(heat_frame)).mark_rect().transform_calculate(col1="datum.col + 1").encode(
        x=alt.X("col:Q", title=f"fc6 neurons, sorted by mean row ({out}{' binned' if bins < out else ''})",
                axis=alt.Axis(labels=False, ticks=False), scale=alt.Scale(domain=[0, bins], nice=False)),
        x2="col1:Q", y=alt.Y("y:O", title="input row y (0 = top)"),
        color=alt.Color("share:Q", scale=alt.Scale(scheme="viridis"), title="share of energy"),
        tooltip=["y:O", alt.Tooltip("share:Q", format=".3f")]).properties(width=420, height=180)
    summary = pd.DataFrame({"y": np.arange(h), "mean": share.mean(axis=0), "q25": np.quantile(share, 0.25, axis=0),
                            "q75": np.quantile(share, 0.75, axis=0), "uniform": 1.0 / h})
    base = alt.Chart(summary).encode(y=alt.Y("y:O", title=None))
    band = base.mark_bar(opacity=0.3, height=10).encode(x=alt.X("q25:Q", title="share of energy"), x2="q75:Q")
    line = base.mark_line(point=True, orient="horizontal").encode(x="mean:Q", order="y:O",
                                                                 tooltip=["y:O", alt.Tooltip("mean:Q", format=".3f")])
    uniform = base.mark_rule(strokeDash=[4, 3], color="gray").encode(x="mean(uniform):Q", y=alt.Undefined)
    return alt.hconcat(heat, (band + line + uniform).properties(width=160, height=180), title=_title(title))


# ----------------------------------------------------------------------------------------- one neuron
def neuron_chart(picture, channels=None, row=None, col=None, pixel=30, title=None) -> alt.HConcatChart:
    """One neuron enlarged: its RGB picture (kh, kw, 3), each colour's spatial factor alone, and, when
    `channels` (3, 2*in) is given, the three channel factors (the input channels each colour stands
    for: positive part up, negative part down). row / col: its shares, shown in the title."""
    p = _pictures(np.asarray(_numpy(picture))[None])[0]  # (kh, kw, 3)
    kh, kw, _ = p.shape
    sub = None if row is None else f"row share {row:.2f} · column share {col:.2f}"
    py, px = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    cells = pd.DataFrame({"px": px.ravel(), "py": py.ravel(), "c": hex_colours(p).ravel()})
    for i, name in enumerate("rgb"):
        one = np.zeros_like(p)
        one[..., i] = p[..., i]
        cells[name] = hex_colours(one).ravel()

    def square(field, size, caption):
        return alt.Chart(cells, title=alt.TitleParams(caption, fontSize=11, fontWeight="normal")).mark_rect().encode(
            x=alt.X("px:O", axis=None), y=alt.Y("py:O", axis=None), color=alt.Color(f"{field}:N", scale=None),
        ).properties(width=kw * size, height=kh * size, view=NO_FRAME)

    small = max(6, pixel // 3)
    parts = [square("c", pixel, "picture"),
             alt.vconcat(*[square(n, small, f"factor {n.upper()}") for n in "rgb"], spacing=2)]
    if channels is not None:
        ch = _numpy(channels).astype(np.float64)  # (3, 2*in)
        cin = ch.shape[1] // 2
        rows = [{"factor": "RGB"[i], "channel": j, "value": ch[i, j] - ch[i, cin + j]}
                for i in range(3) for j in range(cin)]
        bars = alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
            x=alt.X("channel:Q", title="input channel", scale=alt.Scale(domain=[0, cin], nice=False)),
            y=alt.Y("value:Q", title=None), color=alt.Color("factor:N", scale=alt.Scale(
                domain=list("RGB"), range=["#d62728", "#2ca02c", "#1f77b4"]), legend=None),
            row=alt.Row("factor:N", sort=list("RGB"), title="channel factors (+ / −)",
                        header=alt.Header(labelAngle=0)),
            tooltip=["factor:N", "channel:Q", alt.Tooltip("value:Q", format=".3f")],
        ).properties(width=260, height=kh * small * 0.9)
        parts.append(bars)
    return alt.hconcat(*parts, title=_title(title, sub))


def static_neuron_picker(pictures, channels=None, order=None, columns=16, pixel=4, zoom=24, top=4,
                         layer=None, title=None) -> alt.VConcatChart:
    """The neuron picker without a kernel: click a neuron in the small grid (or move the slider) to see it
    enlarged, each colour's factor alone, its row / column share and, when channels (N, 3, 2*in) is
    given, the `top` input channels each colour stands for (+c positive weight, -c negative). A Vega-Lite
    point selection bound to a range input, so it works in a static page. layer: its name, for the
    neuron's address "layer:n"."""
    p = _pictures(pictures)
    n_all, kh, kw, _ = p.shape
    order = np.arange(n_all) if order is None else np.asarray(order)
    pixels = pixel_table(p, order, columns)
    neurons = neuron_table(p, order)
    if channels is not None:
        ch = _numpy(channels).astype(np.float64)  # (N, 3, 2*in)
        cin = ch.shape[2] // 2
        signed = np.concatenate([ch[:, :, :cin], ch[:, :, cin:]], axis=2)  # indices j < cin positive, >= cin negative
        best = np.argsort(-signed, axis=2)[:, :, :top]  # (N, 3, top)
        label = lambda j: f"+{j}" if j < cin else f"−{j - cin}"  # noqa: E731
        for i, name in enumerate("RGB"):
            neurons[f"top{name}"] = [f"{name}: " + " ".join(label(j) for j in best[n, i]) for n in neurons["n"]]
    first = int(order[0])
    pick = alt.selection_point(name="neuron", fields=["n"], on="click", clear=False, value=[{"n": first}],
                               bind=alt.binding_range(min=0, max=n_all - 1, step=1, name="neuron "))
    chosen = {"param": "neuron", "empty": False}
    data = inline_csv(pixels[["n", "x", "y", "px", "py", "c"]])
    ncols, nrows = min(columns, len(order)), math.ceil(len(order) / columns)
    size = dict(width=(ncols * (kw + 1) - 1) * pixel, height=(nrows * (kh + 1) - 1) * pixel)
    pixels_layer = alt.Chart(data).mark_rect(cursor="pointer").transform_calculate(
        x0=f"datum.x * {pixel}", x1=f"(datum.x + 1) * {pixel}", y0=f"datum.y * {pixel}", y1=f"(datum.y + 1) * {pixel}",
    ).encode(
        x=alt.X("x0:Q", scale=None, axis=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None, axis=None), y2="y1:Q",
        color=alt.Color("c:N", scale=None), tooltip=[alt.Tooltip("n:Q", title="neuron")],
    ).add_params(pick)
    left, top = f"(datum.slot % {columns}) * {(kw + 1) * pixel}", f"floor(datum.slot / {columns}) * {(kh + 1) * pixel}"
    outline = alt.Chart(inline_csv(neurons[["n", "slot"]])).mark_rect(
        filled=False, stroke="black", strokeWidth=2).transform_filter(chosen).transform_calculate(
        x0=f"{left} - 1.5", x1=f"{left} + {kw * pixel} + 1.5", y0=f"{top} - 1.5", y1=f"{top} + {kh * pixel} + 1.5",
    ).encode(x=alt.X("x0:Q", scale=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None), y2="y1:Q")
    grid = alt.layer(pixels_layer, outline).properties(**size, view=NO_FRAME)

    def enlarged(colour_expr, size, caption):
        return alt.Chart(data, title=alt.TitleParams(caption, fontSize=11, fontWeight="normal")).mark_rect().transform_filter(
            chosen).transform_calculate(colour=colour_expr).encode(
            x=alt.X("px:O", axis=None), y=alt.Y("py:O", axis=None), color=alt.Color("colour:N", scale=None),
        ).properties(width=kw * size, height=kh * size, view=NO_FRAME)

    small = max(6, zoom // 3)
    factors = alt.vconcat(*[enlarged(f"'rgb(' + {expr} + ')'", small, f"factor {name}") for name, expr in (
        ("R", "rgb(datum.c).r + ',0,0'"), ("G", "'0,' + rgb(datum.c).g + ',0'"), ("B", "'0,0,' + rgb(datum.c).b"))],
        spacing=2)
    lines = [f"'neuron {layer + ':' if layer else ''}' + datum.n", "'row share ' + format(datum.row, '.2f')", "'column share ' + format(datum.col, '.2f')"]
    if channels is not None:
        lines += ["'top input channels'", "datum.topR", "datum.topG", "datum.topB"]
    info = alt.Chart(inline_csv(neurons)).transform_filter(chosen).transform_calculate(
        text=f"[{', '.join(lines)}]").mark_text(align="left", baseline="top", fontSize=12, lineHeight=17).encode(
        x=alt.value(0), y=alt.value(0), text="text:N").properties(width=170, height=kh * zoom, view=NO_FRAME)
    detail = alt.hconcat(enlarged("datum.c", zoom, "picture"), factors, info, spacing=12)
    return alt.vconcat(grid, detail, title=_title(title, "click a neuron, or move the slider"))


def static_neuron_picker_for(w, layer=None, title=None, **options) -> alt.VConcatChart:
    """static_neuron_picker of a raw conv weight (out, in, kh, kw): NMF pictures and channel factors,
    neurons ordered by similarity. options: see static_neuron_picker."""
    red = reduction(w)
    return static_neuron_picker(red.pictures, red.channels, order=reduce.order_by_similarity(red.pictures),
                                layer=layer, title=title, **options)


# -------------------------------------------------------------------------------------------- export
def save_svg(chart, path, scale=2.0) -> Path:
    """Write `chart` as a static file, format from the suffix (.svg, .png, .pdf), rendered by vl-convert
    (no browser, no network). scale: pixel density for PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"unsupported format {path.suffix!r}; use .svg, .png or .pdf")
    chart.save(str(path), format=fmt, **({"scale_factor": scale} if fmt == "png" else {}))
    return path


def to_png(chart, scale=1.0) -> bytes:
    """PNG bytes of a chart, rendered by vl-convert."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), vl_version=_vl_version(), scale=scale)


# ------------------------------------------------------------------------------------ offline renderer
STATIC_DIR = Path(__file__).resolve().parent.parent / "book" / "_static"
JS_BUNDLE = "vega-bundle.min.js"  # vega + vega-lite + vega-embed in one file (vl_convert.javascript_bundle)
RENDERER = "banding_offline"


def _vl_version() -> str:
    """'6.4' for altair's schema 'v6.4.1': the Vega-Lite version the charts are written for."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def write_js_bundle(static_dir=STATIC_DIR) -> Path:
    """Write the vega / vega-lite / vega-embed bundle matching altair's Vega-Lite version to
    static_dir/JS_BUNDLE (~0.9 MB, minified) and return its path. Wrapped in a function scope so its
    top-level names cannot clash with other scripts; it sets window.vega, window.vegaLite, window.vegaEmbed."""
    import vl_convert as vlc

    vl = _vl_version()
    body = vlc.javascript_bundle(vl_version=vl)
    header = (f"/* Vega {vlc.get_vega_version()}, Vega-Lite {vl}, Vega-Embed {vlc.get_vega_embed_version()}: "
              f"BSD-3-Clause, University of Washington Interactive Data Lab. Bundled by vl-convert-python "
              f"{vlc.__version__} (vl_convert.javascript_bundle) for altair {alt.__version__}; regenerate with "
              f"banding_lib.plots.write_js_bundle(). */\n")
    path = Path(static_dir) / JS_BUNDLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "(function () {\n" + body + "\n})();\n", encoding="utf-8")
    return path


# The chart snippet. The bundle's URL: the Sphinx page's content root (<html data-content_root="../">,
# Sphinx >= 7.2) + "_static/", else the folder of any script the page loads from _static/, else `prefix`
# (relative to the page). Loaded once per page; every chart waits for the same promise.
_SNIPPET = """<div id="{div}" class="banding-chart"></div>
<script type="text/javascript">
(function (spec, opt) {{
  var el = document.getElementById("{div}");
  function fail(err) {{ el.innerHTML = '<pre style="color:#b00">' + String(err && err.message || err) + '</pre>'; }}
  function draw() {{ window.vegaEmbed(el, spec, opt).catch(fail); }}
  if (window.vegaEmbed) {{ draw(); return; }}
  if (!window.__bandingVega) {{
    var root = document.documentElement.getAttribute("data-content_root"), src;
    if (root !== null) {{ src = root + "_static/{bundle}"; }}
    else {{
      var s = document.querySelector('script[src*="_static/"]');
      src = s ? s.getAttribute("src").replace(/_static\\/.*$/, "_static/{bundle}") : "{prefix}{bundle}";
    }}
    window.__bandingVega = new Promise(function (ok, no) {{
      var tag = document.createElement("script");
      tag.src = src; tag.onload = ok;
      tag.onerror = function () {{ no(new Error("could not load the chart library " + src)); }};
      document.head.appendChild(tag);
    }});
  }}
  window.__bandingVega.then(draw, fail);
}})({spec}, {opt});
</script>"""


def _script_json(obj) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(obj, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def offline_html(spec: dict, prefix: str = "_static/", embed_options: dict | None = None) -> str:
    """An HTML snippet that draws the Vega-Lite `spec` with the vendored bundle (see _SNIPPET); no CDN."""
    opt = {"mode": "vega-lite", "actions": {"export": True, "source": False, "compiled": False, "editor": False},
           **(embed_options or {})}
    return _SNIPPET.format(div=f"vega-{uuid.uuid4().hex[:12]}", bundle=JS_BUNDLE, prefix=_html.escape(prefix),
                           spec=_script_json(spec), opt=_script_json(opt))


def _offline_renderer(spec: dict, prefix: str = "_static/", svg: bool = False, embed_options=None, **_) -> dict:
    bundle = {"text/html": offline_html(spec, prefix, embed_options), "text/plain": "<chart>"}
    if svg:  # a static copy: used where no JavaScript runs (PDF builds, plain viewers)
        import vl_convert as vlc

        bundle["image/svg+xml"] = vlc.vegalite_to_svg(spec, vl_version=_vl_version())
    return bundle


def use_offline_renderer(prefix: str = "_static/", svg: bool = False) -> None:
    """Make altair draw every chart with the vendored JS bundle instead of a CDN (call once, at the top of
    a notebook). The output is text/html that loads <content root>/_static/vega-bundle.min.js, so it works
    in any page of the built book; `prefix` is the fallback folder relative to the page where no Sphinx
    content root is found. svg=True also stores a static SVG of each chart (image/svg+xml) in the output.
    Also lifts altair's 5000-row limit for DataFrame data."""
    if not (STATIC_DIR / JS_BUNDLE).exists():
        write_js_bundle()
    alt.renderers.register(RENDERER, _offline_renderer)
    alt.renderers.enable(RENDERER, prefix=prefix, svg=svg)
    alt.data_transformers.disable_max_rows()


# ------------------------------------------------------------------------------------------ scale study
def study_chart(frame, layer="block5.b", title=None) -> alt.LayerChart:
    """banding_lib.study.frame rows of `layer`: row share (filled circles) and column share (open squares)
    with their 95 % intervals against CPU-minutes (log scale), one colour per axis of the study, the noise
    level dashed."""
    f = frame[frame.layer == layer].copy()
    f["gpu_s_est"] = f["gpu_min_est"] * 60
    long = pd.concat([f.assign(measure="row share", value=f.row, lo=f.row_lo, hi=f.row_hi),
                      f.assign(measure="column share", value=f.col, lo=f.col_lo, hi=f.col_hi)])
    colour = alt.Color("axis:N", title="varied", legend=alt.Legend(orient="bottom", columns=4))
    base = alt.Chart(long).encode(
        x=alt.X("cpu_min:Q", scale=alt.Scale(type="log"), title="training, minutes of one CPU thread (log)"),
        color=colour)
    tips = ["label:N", "seed:Q", "measure:N", alt.Tooltip("value:Q", format=".2f"), alt.Tooltip("lo:Q", format=".2f"),
            alt.Tooltip("hi:Q", format=".2f"), alt.Tooltip("val_top1:Q", format=".2f", title="val. accuracy"),
            alt.Tooltip("cpu_min:Q", format=".1f"), alt.Tooltip("gpu_s_est:Q", format=".2f", title="GPU s (est.)")]
    y = alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]),
              title=f"{short_layer(layer)} NMF pictures: row share ● / column share □")
    bars = base.mark_rule().encode(y=alt.Y("lo:Q", title=None), y2="hi:Q")
    rows = base.mark_point(size=60, filled=True, shape="circle").encode(y=y, tooltip=tips).transform_filter(
        "datum.measure == 'row share'")
    cols = base.mark_point(size=60, filled=False, shape="square", strokeWidth=2).encode(y=y, tooltip=tips).transform_filter(
        "datum.measure == 'column share'")
    noise = alt.Chart(f).mark_rule(strokeDash=[4, 3], color="gray").encode(y="mean(null):Q")
    return (bars + rows + cols + noise).properties(width=560, height=280, title=title or "")
