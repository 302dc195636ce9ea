"""Offline rendering of the book's charts: every chart is drawn by a vendored Vega bundle, never a CDN, and
can be rendered to a static PNG.

`write_js_bundle(folder)` writes vega + vega-lite + vega-embed (one file, from vl-convert, matched to
altair's Vega-Lite version) into the folder it is given (the book's `static`, published as `_static`);
`use_offline_renderer(folder)` makes every chart output an HTML snippet that loads that file from the page's
`_static/` folder.
`to_png` renders a chart to PNG bytes with vl-convert (no browser, no network).
"""
from __future__ import annotations

import html as _html
import json
import uuid
from pathlib import Path

import altair as alt

from .results import atomic_write


# -------------------------------------------------------------------------------------------- export
def to_png(chart, scale=1.0) -> bytes:
    """PNG bytes of a chart, rendered by vl-convert."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), vl_version=_vl_version(), scale=scale)


# ------------------------------------------------------------------------------------ offline renderer
JS_BUNDLE = "vega-bundle.min.js"  # vega + vega-lite + vega-embed in one file (vl_convert.javascript_bundle)
RENDERER = "banding_offline"


def _vl_version() -> str:
    """'6.4' for altair's schema 'v6.4.1': the Vega-Lite version the charts are written for."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def write_js_bundle(static_dir) -> Path:
    """Write the vega / vega-lite / vega-embed bundle matching altair's Vega-Lite version to
    static_dir/JS_BUNDLE (~0.9 MB, minified) and return its path; static_dir is the book's static folder
    (book/static, published as _static; "static" from a notebook, which runs in the book folder). Wrapped in a function scope
    so its top-level names cannot clash with other scripts; it sets window.vega, window.vegaLite,
    window.vegaEmbed. Written atomically: notebooks run in parallel may write it at once."""
    import vl_convert as vlc

    vl = _vl_version()
    body = vlc.javascript_bundle(vl_version=vl)
    header = (f"/* Vega {vlc.get_vega_version()}, Vega-Lite {vl}, Vega-Embed {vlc.get_vega_embed_version()}: "
              f"BSD-3-Clause, University of Washington Interactive Data Lab. Bundled by vl-convert-python "
              f"{vlc.__version__} (vl_convert.javascript_bundle) for altair {alt.__version__}; regenerate with "
              f"banding_lib.render.write_js_bundle('book/static'). */\n")
    path = Path(static_dir) / JS_BUNDLE
    atomic_write(path, lambda tmp: tmp.write_text(header + "(function () {\n" + body + "\n})();\n", encoding="utf-8"))
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
    """An HTML snippet that draws the Vega-Lite `spec` with the vendored bundle (see _SNIPPET); no CDN. The chart's
    menu saves it as SVG or PNG and shows its source: the Vega-Lite spec, its data inline (CSV), to copy."""
    opt = {"mode": "vega-lite", "actions": {"export": True, "source": True, "compiled": False, "editor": False},
           **(embed_options or {})}
    return _SNIPPET.format(div=f"vega-{uuid.uuid4().hex[:12]}", bundle=JS_BUNDLE, prefix=_html.escape(prefix),
                           spec=_script_json(spec), opt=_script_json(opt))


def _offline_renderer(spec: dict, prefix: str = "_static/", svg: bool = False, embed_options=None, **_) -> dict:
    bundle = {"text/html": offline_html(spec, prefix, embed_options), "text/plain": "<chart>"}
    if svg:  # a static copy: used where no JavaScript runs (PDF builds, plain viewers)
        import vl_convert as vlc

        bundle["image/svg+xml"] = vlc.vegalite_to_svg(spec, vl_version=_vl_version())
    return bundle


def use_offline_renderer(static_dir, prefix: str = "_static/", svg: bool = False) -> None:
    """Make altair draw every chart with the vendored JS bundle instead of a CDN (call once, at the top of
    a notebook, with static_dir "static": the book's static folder, where the bundle is written if it is
    missing). The output is text/html that loads <content root>/_static/vega-bundle.min.js, so it works
    in any page of the built book; `prefix` is the fallback folder relative to the page where no Sphinx
    content root is found. svg=True also stores a static SVG of each chart (image/svg+xml) in the output.
    Also lifts altair's 5000-row limit for DataFrame data, and pandas' 60-row limit for the tables a page shows
    (a long table is shown whole, in its scrolling box, never cut with "...")."""
    import pandas as pd

    if not (Path(static_dir) / JS_BUNDLE).exists():
        write_js_bundle(static_dir)
    alt.renderers.register(RENDERER, _offline_renderer)
    alt.renderers.enable(RENDERER, prefix=prefix, svg=svg)
    alt.data_transformers.disable_max_rows()
    pd.set_option("display.max_rows", None)


# ------------------------------------------------------------------------------------- executed pages
HIDDEN_TAGS = ("parameters", "injected-parameters")  # papermill's cells: in the notebook, not on the page


def tidy_notebook(path) -> Path:
    """Prepare an executed notebook for the static book, in place: its parameter cells (the `parameters` cell
    and papermill's injected one) get the `remove-cell` tag, and the saved ipywidgets state is dropped (no
    live widget is shown in the static book, and that state makes every page load the widget manager's
    scripts). The notebook stays runnable: `jupyter lab` shows every cell."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(t in tags for t in HIDDEN_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
        for output in cell.get("outputs", []):  # widget views whose state is gone would render as dead text
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    nb.metadata.pop("widgets", None)
    atomic_write(path, lambda tmp: nbformat.write(nb, tmp))
    return path
