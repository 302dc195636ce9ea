"""Altair charts of loaded results: weight grids, score charts, curves over training, the architecture
diagram, the cluster summary, AlexNet fc6 by position, one neuron enlarged, the scale study.

Plot functions take loaded runs, pictures or tables (banding_lib.tables) and return a chart; they never
train and never write files (banding_lib.render draws them for the book). Big tables are embedded as
inline CSV (one short line per pixel, no per-row JSON keys), so a 512-neuron 5x5 layer is ~250 KB and
altair's 5000-row limit does not apply.

Conventions: pictures are (N, kh, kw, 3) RGB in [0, 1] (reduce.Reduction.pictures); row 0 is the top of
a kernel (y grows downwards, as in NCHW); a neuron is addressed as "layer:index".
"""
from __future__ import annotations

import io
import math

import altair as alt
import numpy as np
import pandas as pd

from . import metrics, tables

KIND_SHAPES = {"W": "circle", "dW": "square", "NMF": "triangle-up", "article": "diamond"}
MEASURE_COLOURS = {"row share": "#1f77b4", "column share": "#d62728"}
COLUMN_WIDTH = 660  # px: the book's text column (688 px in a 1280-px window) less the chart's padding
MIN_TILE = 24  # px: the smallest side a neuron's picture is drawn at, whatever its kernel size (3x3: 8 px a cell)
NO_FRAME = alt.ViewBackground(stroke=None)  # views drawn as pictures: no grey frame (composable, unlike configure_view)


# ----------------------------------------------------------------------------------------------- helpers
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


def _get(score, key):
    return score[key] if isinstance(score, dict) else getattr(score, key)


def score_line(score) -> str:
    """'row share 0.82 [0.79, 0.85] · column share 0.16 [...] · noise 0.17' from a Score or its dict."""
    return (f"row share {_get(score, 'row'):.2f} [{_get(score, 'row_lo'):.2f}, {_get(score, 'row_hi'):.2f}]"
            f" · column share {_get(score, 'col'):.2f} [{_get(score, 'col_lo'):.2f}, {_get(score, 'col_hi'):.2f}]"
            f" · noise {_get(score, 'null'):.2f}")


def chart_title(title, subtitle=None):
    """A title with an optional subtitle, anchored left; nothing when both are None."""
    if title is None and subtitle is None:
        return alt.Undefined
    return alt.TitleParams(text=title or "", subtitle=subtitle or alt.Undefined, anchor="start")


# ------------------------------------------------------------------------------------------ weight grid
def pixel_table(pictures, order=None, columns=16, gap=1) -> pd.DataFrame:
    """One row per pixel of every shown neuron: n (neuron index), slot (display position), x, y (grid
    position in pixel cells, neurons `gap` cells apart), px, py (position inside the kernel, py = row)
    and c (hex colour). Neurons appear in `order` (default 0..N-1; a subset shows only those)."""
    p = tables.as_pictures(pictures)
    n_all, kh, kw, _ = p.shape
    order = np.arange(n_all) if order is None else np.asarray(order, dtype=np.int64).reshape(-1)
    if order.size and (order.min() < 0 or order.max() >= n_all):
        raise ValueError(f"order holds indices outside 0..{n_all - 1}")
    slot, py, px = np.meshgrid(np.arange(order.size), np.arange(kh), np.arange(kw), indexing="ij")  # (S, kh, kw)
    return pd.DataFrame({
        "n": order[slot].ravel(), "slot": slot.ravel(),
        "x": ((slot % columns) * (kw + gap) + px).ravel(), "y": ((slot // columns) * (kh + gap) + py).ravel(),
        "px": px.ravel(), "py": py.ravel(), "c": tables.hex_colours(p[order]).ravel(),
    })


def neuron_table(pictures, order=None) -> pd.DataFrame:
    """One row per shown neuron: n, slot, row and col (its picture's row / column variance share)."""
    p = tables.as_pictures(pictures)
    order = np.arange(len(p)) if order is None else np.asarray(order, dtype=np.int64).reshape(-1)
    rows, cols = metrics.band_shares(np.moveaxis(p, -1, 1))
    return pd.DataFrame({"n": order, "slot": np.arange(order.size), "row": rows[order].round(3),
                         "col": cols[order].round(3)})


def weight_grid(pictures, scores=None, order=None, columns=16, pixel=6, title=None, gap=1) -> alt.Chart:
    """The article's weight figure: each neuron's (kh, kw) RGB picture drawn pixelated, `columns` neurons
    a row, in `order` (e.g. reduce.order_by_similarity(pictures)), `gap` blank cells between neurons.
    pictures (N, kh, kw, 3) in [0, 1]; scores: the layer's metrics.Score (or its dict), shown under the
    title. Tooltip: neuron index and its row / column share. pixel: screen pixels per kernel cell."""
    p = tables.as_pictures(pictures)
    _, kh, kw, _ = p.shape
    pixel = max(pixel, math.ceil(MIN_TILE / max(kh, kw)))  # a 3x3 kernel is drawn as large as a 5x5 one
    columns = max(1, min(columns, (COLUMN_WIDTH + gap * pixel) // ((kw + gap) * pixel)))  # fits the page
    pixels = pixel_table(p, order, columns, gap)
    neurons = neuron_table(p, order)
    shown = len(neurons)
    ncols, nrows = min(columns, max(shown, 1)), max(1, math.ceil(shown / columns))
    return alt.Chart(inline_csv(pixels[["n", "x", "y", "c"]]), title=chart_title(title, scores and score_line(scores))).mark_rect(
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


def layer_grid(red, title=None, columns=16, pixel=6, gap=1) -> alt.Chart:
    """weight_grid of a layer's reduce.Reduction: its NMF pictures, ordered by similarity, with the pictures'
    banding score under the title."""
    return weight_grid(red.pictures, red.score, red.order, columns=columns, pixel=pixel, title=title, gap=gap)


def medoid(pictures) -> int:
    """The neuron whose picture lies nearest the layer's mean picture: a typical neuron, never an outlier."""
    p = tables.as_pictures(pictures).reshape(len(pictures), -1)
    return int(np.argmin(((p - p.mean(axis=0)) ** 2).sum(axis=1)))


def sample(red, count: int = 10) -> np.ndarray:
    """`count` neurons of a reduce.Reduction spread evenly through its similarity order, starting from its most
    typical neuron (`medoid`) and wrapping around (every neuron when it has no more): the first tile is a typical
    picture, the rest show the layer's range."""
    order = np.asarray(red.order)
    n = len(order)
    start = int(np.flatnonzero(order == medoid(red.pictures))[0])
    steps = np.arange(min(n, count)) * (n / min(n, count))
    return order[(start + steps.round().astype(int)) % n]


def side_by_side(reductions: dict, count: int = 10, columns: int = 3, per_row: int = 5, title=None) -> alt.ConcatChart:
    """Layers to compare, each as a few neurons (`sample`) at one tile size: {label: reduce.Reduction} (a label a
    string, or a tuple of lines), e.g. the
    baseline's 5b beside an intervention's, `columns` panels a row, `per_row` neurons a panel row. Each panel's
    subtitle is its layer's row / column share (the pictures' banding score); the full grids are layer_grid's."""
    side = max(max(r.pictures.shape[1:3]) for r in reductions.values())
    pixel, spacing = max(6, math.ceil(MIN_TILE / side)), 16
    fit = (COLUMN_WIDTH - spacing * (columns - 1)) // columns  # px a panel may take
    per_row = max(1, min(per_row, (fit + pixel) // ((side + 1) * pixel)))
    # a label may be a tuple of lines (the last ones set under the first, as the subtitle's first lines)
    lines = lambda label: list(label) if isinstance(label, tuple) else [label]
    panels = [weight_grid(red.pictures, order=sample(red, count), columns=per_row, pixel=pixel).properties(
        title=alt.TitleParams(lines(label)[0], subtitle=[*lines(label)[1:], f"row {red.score.row:.2f} / col "
                              f"{red.score.col:.2f}"], anchor="start", fontSize=12, limit=fit))
        for label, red in reductions.items()]
    return alt.concat(*panels, columns=columns, spacing=spacing, title=chart_title(title))


def png_uri(pixels: np.ndarray) -> str:
    """An (H, W, 3) uint8 array as a PNG data URI: a picture the page carries itself, no other file."""
    import base64

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def strip_html(red, count: int = 6, tile: int = MIN_TILE, gap: int = 3, label: str = "") -> str:
    """A few neurons of a reduce.Reduction (`sample`) as one small PNG <img> (a data URI: the page needs no other
    file), each picture `tile` px a side, drawn pixelated: a table cell's picture of its layer. `label` is its alt
    text and tooltip."""
    import html

    pics = tables.as_pictures(red.pictures)[sample(red, count)]
    n, kh, kw, _ = pics.shape
    cell = max(1, math.ceil(tile / max(kh, kw)))
    width = n * kw * cell + (n - 1) * gap
    canvas = np.full((kh * cell, width, 3), 255, dtype=np.uint8)
    for i, p in enumerate(pics):
        big = np.kron(np.clip(np.rint(p * 255), 0, 255).astype(np.uint8), np.ones((cell, cell, 1), dtype=np.uint8))
        x = i * (kw * cell + gap)
        canvas[:, x:x + kw * cell] = big
    uri = png_uri(canvas)
    return (f'<img src="{uri}" width="{width}" height="{kh * cell}" alt="{html.escape(label)}" '
            f'title="{html.escape(label)}" style="image-rendering: pixelated; display: block">')


# ----------------------------------------------------------------------------------------- score chart
def score_chart(rows, title=None) -> alt.VConcatChart:
    """Row and column share per run, one panel per layer listing only the runs that have it: a dot with its 95 %
    interval per kind (W raw weight, dW minus init, NMF pictures), the article's number as an open diamond, the
    noise level as a dashed rule. rows: tables.scores_frame(...) or a list of its row dicts. Panels are stacked,
    not faceted: facets with independent y scales over layered marks make Vega-Lite warn in the console."""
    frame = pd.DataFrame(rows)
    runs = list(dict.fromkeys(frame["run"]))
    long = pd.concat([
        frame.assign(measure="row share", value=frame["row"], lo=frame["row_lo"], hi=frame["row_hi"]),
        frame.assign(measure="column share", value=frame["col"], lo=frame["col_lo"], hi=frame["col_hi"]),
    ])[["run", "layer", "kind", "null", "measure", "value", "lo", "hi"]]
    kinds = [k for k in KIND_SHAPES if k in set(long["kind"])]
    y = alt.Y("run:N", sort=runs, title=None)
    y_off = alt.YOffset("kind:N", sort=kinds)
    colour = alt.Color("measure:N", title=None, scale=alt.Scale(domain=list(MEASURE_COLOURS),
                                                                  range=list(MEASURE_COLOURS.values())))
    shape = alt.Shape("kind:N", title="scored on", scale=alt.Scale(domain=kinds, range=[KIND_SHAPES[k] for k in kinds]))
    tip = [alt.Tooltip("run:N"), alt.Tooltip("kind:N"), alt.Tooltip("measure:N"),
           alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f")]
    measured = alt.datum.kind != "article"

    def panel(layer, last):
        x = alt.X("value:Q", scale=alt.Scale(domain=[0, 1]),
                  title="share of a kernel's spatial variance" if last else None)
        bars = alt.Chart().mark_rule(strokeWidth=1.5).transform_filter(measured).encode(
            y=y, yOffset=y_off, x=alt.X("lo:Q"), x2="hi:Q", color=colour)
        dots = alt.Chart().mark_point(filled=True, size=40).transform_filter(measured).encode(
            y=y, yOffset=y_off, x=x, color=colour, shape=shape, tooltip=tip)
        paper = alt.Chart().mark_point(filled=False, size=130, strokeWidth=2).transform_filter(~measured).encode(
            y=y, yOffset=y_off, x=x, color=colour, shape=shape, tooltip=tip)
        noise = alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(
            x=alt.X("mean(null):Q"), tooltip=[alt.Tooltip("mean(null):Q", title="noise level", format=".3f")])
        return alt.layer(noise, bars, dots, paper).transform_filter(alt.datum.layer == layer).properties(
            width=360, height=alt.Step(9), title=alt.TitleParams(layer, anchor="start", fontSize=11))

    layers = list(dict.fromkeys(frame["layer"]))
    return alt.vconcat(*(panel(layer, i == len(layers) - 1) for i, layer in enumerate(layers)), data=long,
                       title=chart_title(title), spacing=8)


# -------------------------------------------------------------------------------------- training curves
def training_curves(runs, layer="block5.b", kind="W") -> alt.VConcatChart:
    """Over training steps, one line per run, one colour per run type (its preset; seeds of a preset share the
    colour): the layer's row (solid) and column (dashed) share of `kind` ("W" raw weight or "dW" minus init) from
    run.metrics["history"], the training loss and the accuracy on the validation subset; the dotted grey line is
    i.i.d. noise's share. The legend sits below the charts, off the lines."""
    rows = []
    for run, label in zip(runs, tables.run_labels(runs)):
        for rec in run.metrics.get("history", []):
            band = rec.get("banding", {})
            if layer not in band:
                raise KeyError(f"run {label} has no banding record for layer {layer!r}; it tracked {sorted(band)}")
            s = band[layer][kind]
            rows.append({"run": label, "type": run.name, "seed": run.config.get("seed", 0), "step": rec["step"],
                         "row share": s["row"], "column share": s["col"], "noise": s["null"], "loss": rec.get("loss"),
                         "accuracy": rec.get("val_top1_subset")})
    frame = pd.DataFrame(rows, columns=["run", "type", "seed", "step", "row share", "column share", "noise", "loss",
                                        "accuracy"])
    shares = frame.melt(id_vars=["run", "type", "seed", "step"], value_vars=["row share", "column share"],
                        var_name="measure")
    colour = alt.Color("type:N", title="run", sort=list(dict.fromkeys(frame["type"])),
                       legend=alt.Legend(orient="bottom", direction="horizontal"))
    x = alt.X("step:Q", title="step")
    tips = ["run:N", "step:Q"]
    lines = alt.Chart(shares).mark_line().encode(
        x=x, y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title=f"share of variance, {short_layer(layer)} {kind}"),
        color=colour, detail="run:N",
        strokeDash=alt.StrokeDash("measure:N", title=None, sort=["row share", "column share"],
                                  legend=alt.Legend(orient="bottom", direction="horizontal")),
        tooltip=[*tips, "measure:N", alt.Tooltip("value:Q", format=".3f")])
    noise = alt.Chart(frame).mark_rule(strokeDash=[2, 2], color="gray").encode(
        y="mean(noise):Q", tooltip=[alt.Tooltip("mean(noise):Q", title="i.i.d. noise", format=".3f")])
    loss = alt.Chart(frame).mark_line().encode(x=x, y=alt.Y("loss:Q", title="training loss"), color=colour,
                                               detail="run:N", tooltip=[*tips, alt.Tooltip("loss:Q", format=".3f")])
    acc = alt.Chart(frame).mark_line().encode(x=x, y=alt.Y("accuracy:Q", title="val. accuracy (subset)",
                                                           scale=alt.Scale(domain=[0, 1])), color=colour, detail="run:N",
                                              tooltip=[*tips, alt.Tooltip("accuracy:Q", format=".3f")])
    # the shares wide on top, loss and accuracy below, the legend under both: the figure fits the text column
    small = dict(width=255, height=150)
    return alt.vconcat((lines + noise).properties(width=560, height=200),
                       alt.hconcat(loss.properties(**small), acc.properties(**small)))


# --------------------------------------------------------------------------------- architecture diagram
def architecture_diagram(rows, head=None, highlight=("block5.a", "block5.b"), title=None) -> alt.LayerChart:
    """Figure 4 drawn from models.describe(model): one box per conv layer (width grows with the channel
    count, height with the map's side), a downward triangle per L2 pool, then the head: its pooling (e.g.
    global average pooling) as a box of its own and the classifier. Labels read "5b 5x5, 512, 7x7". head: a
    label for the head's pooling (default: the row's `pooling`); highlight: layers drawn darker (the ones the
    article looks at)."""
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
            w, h, label, group = 10, 10, f"L2 pool → {r['size']}x{r['size']}", "pool"
        else:
            pooling = head or r.get("pooling")
            if pooling:
                items.append({"name": f"{r['name']}.pooling", "kind": "pooling", "group": "pooling", "label": pooling,
                              "highlight": True, "x0": x, "x1": x + 14, "y0": mid - 10, "y1": mid + 10, "xc": x + 7})
                x += 14 + 9
            w, h = 18, 34
            label, group = f"FC {r['out_channels']}", "head"
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
    return alt.layer(boxes, pools, labels, title=chart_title(title)).properties(
        width=int(x) + 10, height=int(2 * mid + 95), view=NO_FRAME)


# ----------------------------------------------------------------------------------- cluster summary
def cluster_summary(table, k=None, step=26, title=None) -> alt.VConcatChart:
    """The appendix figure from tables.cluster_table(...): for the k picked by a slider (a Vega-Lite param,
    so it works in a static page), each cluster's centroid picture above a heatmap of the % of each
    run-layer's neurons in it."""
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
                       title=chart_title(title)).add_params(k_param).resolve_scale(color="independent")


# ------------------------------------------------------------------------------ AlexNet fc6 by position
def position_profile_chart(profile, max_columns=512, title=None) -> alt.HConcatChart:
    """AlexNet fc6 by input position: profile (out, H) is each fc6 neuron's weight energy per input row y
    (e.g. sum of squares over channels and x of the weight viewed as (out, 256, 6, 6)). Left: each
    neuron's share of energy per row, neurons sorted by their energy-weighted mean row (binned to
    `max_columns` columns); right: the mean share per row with its interquartile band. Flat = no
    dependence on y; the uniform share 1/H is the dashed rule."""
    e = tables.as_numpy(profile).astype(np.float64)
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
    return alt.hconcat(heat, (band + line + uniform).properties(width=160, height=180), title=chart_title(title))


# ----------------------------------------------------------------------------------------- one neuron
def neuron_chart(picture, channels=None, row=None, col=None, pixel=30, title=None) -> alt.HConcatChart:
    """One neuron enlarged: its RGB picture (kh, kw, 3), each colour's spatial factor alone, and, when
    `channels` (3, 2*in) is given, the three channel factors (the input channels each colour stands
    for: positive part up, negative part down). row / col: its shares, shown in the title."""
    p = tables.as_pictures(np.asarray(tables.as_numpy(picture))[None])[0]  # (kh, kw, 3)
    kh, kw, _ = p.shape
    sub = None if row is None else f"row share {row:.2f} · column share {col:.2f}"
    py, px = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    cells = pd.DataFrame({"px": px.ravel(), "py": py.ravel(), "c": tables.hex_colours(p).ravel()})
    for i, name in enumerate("rgb"):
        one = np.zeros_like(p)
        one[..., i] = p[..., i]
        cells[name] = tables.hex_colours(one).ravel()

    def square(field, size, caption):
        return alt.Chart(cells, title=alt.TitleParams(caption, fontSize=11, fontWeight="normal")).mark_rect().encode(
            x=alt.X("px:O", axis=None), y=alt.Y("py:O", axis=None), color=alt.Color(f"{field}:N", scale=None),
        ).properties(width=kw * size, height=kh * size, view=NO_FRAME)

    small = max(6, pixel // 3)
    parts = [square("c", pixel, "picture"),
             alt.vconcat(*[square(n, small, f"factor {n.upper()}") for n in "rgb"], spacing=2)]
    if channels is not None:
        ch = tables.as_numpy(channels).astype(np.float64)  # (3, 2*in)
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
    return alt.hconcat(*parts, title=chart_title(title, sub))


# ------------------------------------------------------------------------------------------ scale study
def axes_chart(axes, layer="block5.b", columns=4, title=None) -> alt.FacetChart:
    """The scale study axis by axis (banding_lib.study.axes): one small chart per varied parameter, the `layer`'s
    NMF row share (blue) and column share (red) with 95 % intervals against the parameter's value ("*": the
    profile's), the noise level dashed; hover a point for the run, its validation accuracy and CPU-minutes."""
    f = axes[axes.layer == layer]
    long = pd.concat([f.assign(measure="row share", share=f.row, lo=f.row_lo, hi=f.row_hi),
                      f.assign(measure="column share", share=f.col, lo=f.col_lo, hi=f.col_hi)])
    long = long[["axis", "value", "order", "label", "measure", "share", "lo", "hi", "null", "val_top1", "cpu_min"]]
    colour = alt.Color("measure:N", title=None, scale=alt.Scale(domain=list(MEASURE_COLOURS),
                                                                  range=list(MEASURE_COLOURS.values())),
                       legend=alt.Legend(orient="bottom", direction="horizontal"))
    x = alt.X("value:N", title=None, sort=alt.EncodingSortField("order"), axis=alt.Axis(labelAngle=0))
    tips = ["label:N", "measure:N", alt.Tooltip("share:Q", format=".2f"), alt.Tooltip("lo:Q", format=".2f"),
            alt.Tooltip("hi:Q", format=".2f"), alt.Tooltip("val_top1:Q", format=".2f", title="val. accuracy"),
            alt.Tooltip("cpu_min:Q", format=".1f", title="CPU-minutes")]
    y = alt.Y("share:Q", scale=alt.Scale(domain=[0, 1]), title=f"{short_layer(layer)} NMF pictures: share of variance")
    bars = alt.Chart().mark_rule(strokeWidth=1.5).encode(x=x, xOffset="measure:N", y=alt.Y("lo:Q"), y2="hi:Q", color=colour)
    dots = alt.Chart().mark_point(filled=True, size=50).encode(x=x, xOffset="measure:N", y=y, color=colour, tooltip=tips)
    noise = alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(
        y="mean(null):Q", tooltip=[alt.Tooltip("mean(null):Q", title="i.i.d. noise", format=".2f")])
    return alt.layer(noise, bars, dots, data=long).properties(width=115, height=150).facet(
        facet=alt.Facet("axis:N", title=None, sort=list(dict.fromkeys(f["axis"]))), columns=columns,
        title=chart_title(title)).resolve_scale(x="independent")


def contrast_chart(c, title=None) -> alt.HConcatChart:
    """banding_lib.study.contrast rows: 5b's row/col ratio (log, 95 % interval) of the baseline (GAP) and its
    no-GAP control against training steps and against val. accuracy, one colour per head, one shape per
    weight decay; the dashed line is ratio 1 (as many row as column structure)."""
    colour = alt.Color("head:N", title="head", legend=alt.Legend(orient="bottom"))
    shape = alt.Shape("decay:N", title="weight decay", legend=alt.Legend(orient="bottom"))
    tips = ["label:N", alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("ratio_lo:Q", format=".2f"),
            alt.Tooltip("ratio_hi:Q", format=".2f"), alt.Tooltip("val_top1:Q", format=".2f", title="val. accuracy")]
    y = alt.Y("ratio:Q", scale=alt.Scale(type="log"), title="5b row / column share (log)")

    def panel(x, x_title):
        base = alt.Chart(c).encode(x=alt.X(x, title=x_title), color=colour)
        lines = base.mark_line(opacity=0.5).encode(y=y, detail="decay:N", strokeDash="decay:N")
        points = base.mark_point(size=70, filled=True).encode(y=y, shape=shape, tooltip=tips)
        bars = base.mark_rule().encode(y=alt.Y("ratio_lo:Q", title=None), y2="ratio_hi:Q")
        one = alt.Chart(pd.DataFrame({"one": [1.0]})).mark_rule(strokeDash=[4, 3], color="gray").encode(y="one:Q")
        return (bars + lines + points + one).properties(width=250, height=240)

    return alt.hconcat(panel("steps:Q", "training steps"), panel("val_top1:Q", "validation accuracy")).properties(
        title=title or "")


# -------------------------------------------------------------------------------------- position probe
def probe_chart(table, title=None) -> alt.LayerChart:
    """The position probe against banding, one point per run (tables.probe_table, trained runs): 5b's log2
    row/col ratio (x; right: horizontal bands) against vertical minus horizontal probe accuracy (y; up: more
    vertical position kept), dashed lines at 0."""
    t = table[table.weights == "trained"]
    points = alt.Chart(inline_csv(t[["preset", "seed", "log2_ratio", "v_minus_h", "accuracy_y", "accuracy_x"]])).mark_point(
        filled=True, size=60).encode(
        x=alt.X("log2_ratio:Q", title="5b: log2 (row share / column share)"),
        y=alt.Y("v_minus_h:Q", title="probe accuracy: vertical − horizontal"),
        color=alt.Color("preset:N", title="run", scale=alt.Scale(scheme="category20")),  # one colour a run (<= 20)
        tooltip=["preset:N", "seed:Q", alt.Tooltip("log2_ratio:Q", format=".2f"),
                 alt.Tooltip("accuracy_y:Q", format=".3f", title="vertical"),
                 alt.Tooltip("accuracy_x:Q", format=".3f", title="horizontal")])
    zero_y = alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(y=alt.datum(0))
    zero_x = alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(x=alt.datum(0))
    return alt.layer(zero_y, zero_x, points).properties(width=440, height=300, title=chart_title(title))
