"""The neuron picker: pick a run, a layer and a neuron; see its picture enlarged, each colour's spatial
factor, its channel factors and its row / column share.

`neuron_picker` is the live version (ipywidgets; the chart is a PNG rendered by vl-convert, so the saved
widget state shows a picture without a kernel). `static_neuron_picker` is the same without a kernel:
an altair chart whose selection runs in the browser (re-exported from plots).
"""
from __future__ import annotations

import html

import ipywidgets as W

from . import metrics, plots
from .plots import static_neuron_picker  # noqa: F401  (the kernel-free picker)


class _Reductions:
    """Reduced pictures and per-neuron shares per (run label, layer), computed on first use."""

    def __init__(self, runs, labels):
        self.runs = dict(zip(labels, runs))
        self.done = {}

    def __call__(self, label, layer):
        key = (label, layer)
        if key not in self.done:
            red = plots.reduction(self.runs[label].weights[layer])
            rows, cols = metrics.picture_shares(red.pictures)
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
    labels = plots.run_labels(runs)
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
        image.value = plots.to_png(chart, scale=scale)
        info.value = (f"<p><b>{html.escape(label)} · {html.escape(layer)}:{n}</b><br>"
                      f"row share {rows[n]:.3f}<br>column share {cols[n]:.3f}<br>noise level {null:.3f}<br>"
                      f"NMF error {float(red.error[n]):.3f}</p>")

    for control in (run_pick, layer_pick, neuron_pick):
        control.observe(refresh, names="value")
    refresh()
    return W.VBox([W.HBox([run_pick, layer_pick, neuron_pick]), W.HBox([image, info])])
