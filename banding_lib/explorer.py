"""The run explorer: every run of the book and the article's own panels, layer by layer, in a static page (no
kernel), as the article's appendix lets a reader browse its experiments.

Pick a run and a layer: its neurons appear in a grid in similarity order, with the layer's row / column share;
click a neuron (or move the slider, which walks through the grid's order) to see its picture enlarged, its three
spatial factors (the picture's red, green and blue) and its own row / column share. Each layer travels as one PNG
strip of its pictures at their own size (a data URI, ~1 KB for 96 3x3 kernels), drawn pixelated in the browser by
a few lines of plain JavaScript: every run of the book weighs a few hundred KB, where one data row per pixel (the
charts' encoding) would weigh ~13 MB.
"""
from __future__ import annotations

import html
import json

import numpy as np

from . import plots, tables

DETAIL = 96  # px a side of the enlarged picture (the grid's tiles: plots.MIN_TILE)


def sprite(pictures, order) -> str:
    """The pictures (N, kh, kw, 3) in [0, 1], in `order`, side by side in one PNG row (one pixel a kernel cell),
    as a data URI."""
    p = tables.as_pictures(pictures)[np.asarray(order)]
    n, kh, kw, _ = p.shape
    return plots.png_uri(np.clip(np.rint(p * 255), 0, 255).astype(np.uint8).transpose(1, 0, 2, 3).reshape(kh, n * kw, 3))


def entry(red, about: str = "") -> dict:
    """What the explorer shows of one layer, from its reduce.Reduction: the sprite in similarity order, each
    neuron's index and row / column share in that order, the layer's score, the grid place it opens on (the
    layer's most typical neuron, plots.medoid: never an outlier first); `about`: a line under the grid."""
    order = np.asarray(red.order)
    rows, cols = red.shares()
    kh, kw = red.pictures.shape[1:3]
    s = red.score
    return {"sprite": sprite(red.pictures, order), "kh": int(kh), "kw": int(kw), "n": order.tolist(),
            "rows": np.round(np.asarray(rows)[order], 2).tolist(), "cols": np.round(np.asarray(cols)[order], 2).tolist(),
            "score": f"row {s.row:.2f} / col {s.col:.2f} (noise {s.null:.2f})", "about": about,
            "start": int(np.flatnonzero(order == plots.medoid(red.pictures))[0])}


_SCRIPT = """
(function () {
  const root = document.getElementById(%(uid)s);
  const data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  const [runPick, layerPick] = root.querySelectorAll("select");
  const slider = root.querySelector("input[type=range]");
  const grid = root.querySelector("canvas.grid"), big = root.querySelector("canvas.big");
  const factors = root.querySelectorAll("canvas.factor");
  const caption = root.querySelector(".caption"), info = root.querySelector(".info");
  const COLUMN = %(column)d, TILE = %(tile)d, DETAIL = %(detail)d, GAP = 3;
  let shown = null, pixels = null, slot = 0;

  function options(select, names) {
    select.replaceChildren(...names.map(function (name) { const o = document.createElement("option"); o.textContent = name; return o; }));
  }
  function layout(e) {
    const cell = Math.ceil(TILE / Math.max(e.kh, e.kw)), w = e.kw * cell + GAP, h = e.kh * cell + GAP;
    const columns = Math.max(1, Math.min(e.n.length, Math.floor((COLUMN + GAP) / w)));
    return {cell: cell, w: w, h: h, columns: columns};
  }
  function paint(canvas, e, i, cell, x0, y0, channel) {
    const ctx = canvas.getContext("2d");
    for (let y = 0; y < e.kh; y++) for (let x = 0; x < e.kw; x++) {
      const k = (y * pixels.width + i * e.kw + x) * 4, d = pixels.data;
      const rgb = [d[k], d[k + 1], d[k + 2]].map(function (v, c) { return channel === undefined || channel === c ? v : 0; });
      ctx.fillStyle = "rgb(" + rgb.join(",") + ")";
      ctx.fillRect(x0 + x * cell, y0 + y * cell, cell, cell);
    }
  }
  function drawGrid() {
    const e = shown, L = layout(e), ctx = grid.getContext("2d");
    grid.width = L.columns * L.w - GAP;
    grid.height = Math.ceil(e.n.length / L.columns) * L.h - GAP;
    ctx.clearRect(0, 0, grid.width, grid.height);
    e.n.forEach(function (_, i) { paint(grid, e, i, L.cell, (i %% L.columns) * L.w, Math.floor(i / L.columns) * L.h); });
    const x0 = (slot %% L.columns) * L.w, y0 = Math.floor(slot / L.columns) * L.h;
    ctx.lineWidth = 2; ctx.strokeStyle = "white";
    ctx.strokeRect(x0 + 1, y0 + 1, e.kw * L.cell - 2, e.kh * L.cell - 2);
    ctx.strokeStyle = "black"; ctx.strokeRect(x0 - 1, y0 - 1, e.kw * L.cell + 2, e.kh * L.cell + 2);
  }
  function drawDetail() {
    const e = shown, cell = Math.floor(DETAIL / Math.max(e.kh, e.kw));
    [big, ...factors].forEach(function (c, j) {
      const f = j === 0 ? cell : Math.max(4, Math.floor(cell / 2));
      c.width = e.kw * f; c.height = e.kh * f;
      paint(c, e, slot, f, 0, 0, j === 0 ? undefined : j - 1);
    });
    info.textContent = runPick.value + " · " + layerPick.value + ":" + e.n[slot] + " — place " + (slot + 1) + " of " +
      e.n.length + " in the grid; row share " + e.rows[slot].toFixed(2) + ", column share " + e.cols[slot].toFixed(2);
  }
  function select(i) { slot = Math.max(0, Math.min(shown.n.length - 1, i)); slider.value = slot; drawGrid(); drawDetail(); }
  function load() {
    shown = data[runPick.value][layerPick.value];
    caption.textContent = layerPick.value + ": " + shown.score + (shown.about ? " · " + shown.about : "");
    slider.max = shown.n.length - 1;
    const img = new Image();
    img.onload = function () {
      const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
      const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
      pixels = ctx.getImageData(0, 0, img.width, img.height);
      select(shown.start);
    };
    img.src = shown.sprite;
  }
  runPick.addEventListener("change", function () { const keep = layerPick.value; options(layerPick, Object.keys(data[runPick.value]));
    if (keep in data[runPick.value]) layerPick.value = keep; load(); });
  layerPick.addEventListener("change", load);
  slider.addEventListener("input", function () { select(Number(slider.value)); });
  grid.addEventListener("click", function (ev) {
    const L = layout(shown), r = grid.getBoundingClientRect();
    const x = (ev.clientX - r.left) * grid.width / r.width, y = (ev.clientY - r.top) * grid.height / r.height;
    const i = Math.floor(y / L.h) * L.columns + Math.floor(x / L.w);
    if (x %% L.w < L.w - GAP && y %% L.h < L.h - GAP && i < shown.n.length) select(i);
  });
  options(runPick, Object.keys(data));
  runPick.value = %(first)s;
  options(layerPick, Object.keys(data[runPick.value]));
  load();
})();
"""


def explorer_html(runs: dict, uid: str = "banding-explorer", column: int = plots.COLUMN_WIDTH, first: str | None = None) -> str:
    """The explorer as one HTML block: runs {run label: {layer: entry(...)}}, shown in that order (`first` picked
    at the start, default the first); `column`: the widest the grid may draw (px)."""
    if not runs or not all(runs.values()):
        raise ValueError("the explorer needs at least one run, each with at least one layer")
    first = first if first is not None else next(iter(runs))
    if first not in runs:
        raise ValueError(f"first={first!r} is not among the runs")
    payload = json.dumps(runs, separators=(",", ":")).replace("</", "<\\/")
    script = _SCRIPT % {"uid": json.dumps(uid), "column": column, "tile": plots.MIN_TILE, "detail": DETAIL,
                        "first": json.dumps(first)}
    factor = '<canvas class="factor" style="image-rendering: pixelated; margin-right: 4px"></canvas>'
    return f"""<div id="{html.escape(uid)}" class="banding-explorer" style="max-width: {column}px">
<div style="display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 6px">
<label>run <select aria-label="run"></select></label> <label>layer <select aria-label="layer"></select></label>
<label>place in the grid <input type="range" min="0" max="0" value="0" aria-label="place in the grid"></label></div>
<div class="caption" style="font-size: 0.9em; margin-bottom: 4px"></div>
<canvas class="grid" style="image-rendering: pixelated; cursor: pointer; max-width: 100%"></canvas>
<div style="display: flex; gap: 12px; align-items: flex-start; margin-top: 8px">
<canvas class="big" style="image-rendering: pixelated"></canvas>
<div><div style="font-size: 0.8em">its factors (red, green, blue)</div>{factor * 3}</div>
<div class="info" style="font-size: 0.9em; max-width: 300px"></div></div>
<script type="application/json">{payload}</script>
<script>{script}</script>
</div>"""

