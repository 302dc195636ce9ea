"""The neuron pickers: pick a neuron of a layer; see its picture enlarged, each colour's spatial factor, its
channel factors and its row / column share.

`static_neuron_picker` needs no kernel: an altair chart whose selection runs in the browser, so it works in
a static page. `neuron_picker` is the live version (ipywidgets, also picking the run and the layer; the
chart is a PNG rendered by vl-convert, so the saved widget state shows a picture without a kernel).
"""
from __future__ import annotations

import html
import math

import altair as alt
import ipywidgets as W
import numpy as np

from . import metrics, plots, reduce, render, tables


# ----------------------------------------------------------------------------------------- static picker
def static_neuron_picker(pictures, channels=None, order=None, columns=16, pixel=4, zoom=24, top=4,
                         layer=None, title=None) -> alt.VConcatChart:
    """The neuron picker without a kernel: click a neuron in the small grid (or move the slider through the grid's
    order) to see it enlarged, each colour's factor alone, its row / column share and, when channels (N, 3, 2*in) is
    given, the `top` input channels each colour stands for (+c positive weight, -c negative). A Vega-Lite
    point selection bound to a range input, so it works in a static page. layer: its name, for the
    neuron's address "layer:n"."""
    p = tables.as_pictures(pictures)
    n_all, kh, kw, _ = p.shape
    order = np.arange(n_all) if order is None else np.asarray(order)
    pixels = plots.pixel_table(p, order, columns)
    neurons = plots.neuron_table(p, order)
    if channels is not None:
        ch = tables.as_numpy(channels).astype(np.float64)  # (N, 3, 2*in)
        cin = ch.shape[2] // 2
        signed = np.concatenate([ch[:, :, :cin], ch[:, :, cin:]], axis=2)  # indices j < cin positive, >= cin negative
        best = np.argsort(-signed, axis=2)[:, :, :top]  # (N, 3, top)
        label = lambda j: f"+{j}" if j < cin else f"−{j - cin}"  # noqa: E731
        for i, name in enumerate("RGB"):
            neurons[f"top{name}"] = [f"{name}: " + " ".join(label(j) for j in best[n, i]) for n in neurons["n"]]
    # a typical neuron first, never the layer's outlier; the slider counts grid places (slots), so that sliding
    # walks through the grid's similarity order
    typical = np.flatnonzero(order == plots.medoid(p))
    first = int(typical[0]) if typical.size else 0  # the medoid's grid place (0 if `order` leaves it out)
    # only a click on a neuron's pixel selects: a click in a gap between neurons would empty the selection
    pick = alt.selection_point(name="neuron", fields=["slot"], on="click[event.item && event.item.datum && "
                               "isValid(event.item.datum.slot)]", clear=False, value=[{"slot": first}],
                               bind=alt.binding_range(min=0, max=len(order) - 1, step=1, name="place in the grid "))
    chosen = {"param": "neuron", "empty": False}
    data = plots.inline_csv(pixels[["n", "slot", "x", "y", "px", "py", "c"]])
    ncols, nrows = min(columns, len(order)), math.ceil(len(order) / columns)
    size = dict(width=(ncols * (kw + 1) - 1) * pixel, height=(nrows * (kh + 1) - 1) * pixel)
    pixels_layer = alt.Chart(data).mark_rect(cursor="pointer").transform_calculate(
        x0=f"datum.x * {pixel}", x1=f"(datum.x + 1) * {pixel}", y0=f"datum.y * {pixel}", y1=f"(datum.y + 1) * {pixel}",
    ).encode(
        x=alt.X("x0:Q", scale=None, axis=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None, axis=None), y2="y1:Q",
        color=alt.Color("c:N", scale=None), tooltip=[alt.Tooltip("n:Q", title="neuron")],
    ).add_params(pick)
    left, top = f"(datum.slot % {columns}) * {(kw + 1) * pixel}", f"floor(datum.slot / {columns}) * {(kh + 1) * pixel}"
    outline = alt.Chart(plots.inline_csv(neurons[["n", "slot"]])).mark_rect(
        filled=False, stroke="black", strokeWidth=2).transform_filter(chosen).transform_calculate(
        x0=f"{left} - 1.5", x1=f"{left} + {kw * pixel} + 1.5", y0=f"{top} - 1.5", y1=f"{top} + {kh * pixel} + 1.5",
    ).encode(x=alt.X("x0:Q", scale=None), x2="x1:Q", y=alt.Y("y0:Q", scale=None), y2="y1:Q")
    grid = alt.layer(pixels_layer, outline).properties(**size, view=plots.NO_FRAME)

    def enlarged(colour_expr, size, caption):
        return alt.Chart(data, title=alt.TitleParams(caption, fontSize=11, fontWeight="normal")).mark_rect().transform_filter(
            chosen).transform_calculate(colour=colour_expr).encode(
            x=alt.X("px:O", axis=None), y=alt.Y("py:O", axis=None), color=alt.Color("colour:N", scale=None),
        ).properties(width=kw * size, height=kh * size, view=plots.NO_FRAME)

    small = max(6, zoom // 3)
    factors = alt.vconcat(*[enlarged(f"'rgb(' + {expr} + ')'", small, f"factor {name}") for name, expr in (
        ("R", "rgb(datum.c).r + ',0,0'"), ("G", "'0,' + rgb(datum.c).g + ',0'"), ("B", "'0,0,' + rgb(datum.c).b"))],
        spacing=2)
    lines = [f"'neuron {layer + ':' if layer else ''}' + datum.n", "'row share ' + format(datum.row, '.2f')", "'column share ' + format(datum.col, '.2f')"]
    if channels is not None:
        lines += ["'top input channels'", "datum.topR", "datum.topG", "datum.topB"]
    info = alt.Chart(plots.inline_csv(neurons)).transform_filter(chosen).transform_calculate(
        text=f"[{', '.join(lines)}]").mark_text(align="left", baseline="top", fontSize=12, lineHeight=17).encode(
        x=alt.value(0), y=alt.value(0), text="text:N").properties(width=170, height=kh * zoom, view=plots.NO_FRAME)
    detail = alt.hconcat(enlarged("datum.c", zoom, "picture"), factors, info, spacing=12)
    return alt.vconcat(grid, detail, title=plots.chart_title(title, "click a neuron, or move the slider"))


def static_neuron_picker_for(red, layer=None, title=None, **options) -> alt.VConcatChart:
    """static_neuron_picker of a layer's reduce.Reduction: NMF pictures and channel factors, neurons ordered
    by similarity. options: see static_neuron_picker."""
    return static_neuron_picker(red.pictures, red.channels, order=red.order, layer=layer, title=title, **options)


# ------------------------------------------------------------------------------------------- live picker
class _Reductions:
    """Reduced pictures and per-neuron shares per (run label, layer), read on first use from the reduction
    cache that the scores step fills (reduce.reduction)."""

    def __init__(self, runs, labels):
        self.runs = dict(zip(labels, runs))
        self.done = {}

    def __call__(self, label, layer):
        key = (label, layer)
        if key not in self.done:
            red = reduce.reduction(self.runs[label].weights[layer])
            rows, cols = red.shares()
            kh, kw = red.pictures.shape[1:3]
            self.done[key] = (red, rows, cols, metrics.null_share(kh, kw))
        return self.done[key]


def neuron_picker(runs, layers=("block5.a", "block5.b"), pixel=30, scale=1.0) -> W.VBox:
    """A live picker over loaded runs (results.Run or anything with .name, .config, .weights): Dropdowns
    for run and layer, an IntSlider for the neuron index; shows the neuron "layer:n" enlarged with its
    three spatial and channel factors (plots.neuron_chart as a PNG) and its row / column share.
    Returns the widget box; its `.children` are (controls HBox, view HBox)."""
    runs = list(runs)
    if not runs:
        raise ValueError("neuron_picker needs at least one run")
    labels = tables.run_labels(runs)
    reductions = _Reductions(runs, labels)
    usable = [layer for layer in layers if any(layer in r.weights for r in runs)]
    if not usable:
        raise ValueError(f"none of the layers {list(layers)} is among the runs' weights")

    run_pick = W.Dropdown(options=labels, value=labels[0], description="run")
    layer_pick = W.Dropdown(options=usable, value=usable[0], description="layer")
    neuron_pick = W.IntSlider(value=0, min=0, max=0, description="neuron", continuous_update=False)
    image = W.Image(format="png")
    info = W.HTML()

    updating = []  # non-empty while refresh() moves the slider itself

    def refresh(*_):
        if updating:
            return
        label, layer = run_pick.value, layer_pick.value
        if layer not in reductions.runs[label].weights:
            info.value = f"<p>run {html.escape(label)} has no layer {html.escape(layer)}</p>"
            image.value = b""
            return
        red, rows, cols, null = reductions(label, layer)
        n_max = len(rows) - 1
        if neuron_pick.max != n_max:
            updating.append(True)
            try:  # ipywidgets clamps the value to the new range
                neuron_pick.max = n_max
            finally:
                updating.clear()
        n = neuron_pick.value
        chart = plots.neuron_chart(red.pictures[n], red.channels[n], float(rows[n]), float(cols[n]), pixel=pixel,
                                   title=f"{label} · {layer}:{n}")
        image.value = render.to_png(chart, scale=scale)
        info.value = (f"<p><b>{html.escape(label)} · {html.escape(layer)}:{n}</b><br>"
                      f"row share {rows[n]:.3f}<br>column share {cols[n]:.3f}<br>noise level {null:.3f}<br>"
                      f"NMF error {float(red.error[n]):.3f}</p>")

    for control in (run_pick, layer_pick, neuron_pick):
        control.observe(refresh, names="value")
    refresh()
    return W.VBox([W.HBox([run_pick, layer_pick, neuron_pick]), W.HBox([image, info])])
