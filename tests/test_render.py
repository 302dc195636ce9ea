"""The offline renderer needs no CDN and writes its bundle where it is told."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from banding_lib import render

BOOK_STATIC = Path(__file__).resolve().parent.parent / "book" / "static"  # the vendored bundle the book ships


@pytest.fixture
def offline():
    before = alt.renderers.active
    render.use_offline_renderer(BOOK_STATIC)
    yield
    alt.renderers.enable(before)


def test_offline_renderer_uses_the_vendored_bundle(offline):
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]}), title="</script><!-- x").mark_point().encode(x="a:Q")
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    page = bundle["text/html"]
    assert "cdn.jsdelivr" not in page and "http" not in page.replace("https://vega.github.io/schema", "")
    assert f'_static/{render.JS_BUNDLE}' in page and "data-content_root" in page
    assert page.count("</script>") == 1  # the title cannot end the script early
    js = BOOK_STATIC / render.JS_BUNDLE
    assert js.is_file() and js.stat().st_size > 500_000
    header = js.read_text(encoding="utf-8")[:400]
    assert f"Vega-Lite {render._vl_version()}," in header  # matches the schema altair writes


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no chromium")
def test_the_chart_menu_offers_the_charts_source_with_its_data_and_no_online_editor():
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_point().encode(x="a:Q")
    snippet = render.offline_html(chart.to_dict())
    opt = json.loads(re.search(r"\}\)\((\{.*\}), (\{.*\})\);\s*</script>", snippet, re.S).group(2))
    assert opt["actions"] == {"export": True, "source": True, "compiled": False, "editor": False}


def test_offline_page_draws_in_a_browser(tmp_path):
    """A page in a subfolder with Sphinx's data-content_root draws the chart from ../_static."""
    (tmp_path / "_static").mkdir()
    shutil.copy(BOOK_STATIC / render.JS_BUNDLE, tmp_path / "_static")
    (tmp_path / "sub").mkdir()
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]}), title="drawn offline").mark_point().encode(x="a:Q")
    snippet = render.offline_html(chart.to_dict(), embed_options={"renderer": "svg"})
    (tmp_path / "sub" / "page.html").write_text(
        f'<!DOCTYPE html><html data-content_root="../"><head><meta charset="utf-8"></head><body>{snippet}</body></html>')
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--virtual-time-budget=5000", "--dump-dom",
                          (tmp_path / "sub" / "page.html").as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"<svg[^>]*>.*drawn offline", dom, re.S), dom[-2000:]


def test_renderer_writes_a_missing_bundle_into_the_folder_it_is_given(tmp_path):
    """A book in another folder (make book BOOK=...) gets its own bundle; the package writes nowhere else."""
    before = alt.renderers.active
    static = tmp_path / "book" / "static"
    try:
        render.use_offline_renderer(static)
    finally:
        alt.renderers.enable(before)
    assert [p.name for p in static.iterdir()] == [render.JS_BUNDLE]  # no temporary file left behind
    assert (static / render.JS_BUNDLE).read_bytes() == (BOOK_STATIC / render.JS_BUNDLE).read_bytes()


def test_tidy_notebook_hides_parameter_cells_and_drops_widget_state(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    nb.cells = [nbformat.v4.new_code_cell("profile = 'cpu'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("1 + 1", metadata={"tags": ["hide-input"]})]
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    render.tidy_notebook(path)
    tidy = nbformat.read(path, as_version=4)
    assert [c.metadata["tags"] for c in tidy.cells] == [["parameters", "remove-cell"],
                                                         ["injected-parameters", "remove-cell"], ["hide-input"]]
    assert "widgets" not in tidy.metadata and [c.source for c in tidy.cells] == [c.source for c in nb.cells]
