"""Charts hold the data they claim to draw; the offline renderer needs no CDN; the pickers react."""
import io
import re
import shutil
import subprocess
from types import SimpleNamespace

import altair as alt
import numpy as np
import pandas as pd
import pytest
import torch

from banding_lib import metrics, models, plots, reduce

torch.set_num_threads(1)


def fake_run(name="baseline", seed=0, out=12, cin=4, k=5, layers=("block5.a", "block5.b"), steps=(0, 50, 100)):
    """A results.Run look-alike: banded weights, final scores and a short history."""
    g = torch.Generator().manual_seed(seed)
    weights = {l: torch.randn(out, cin, k, 1, generator=g).expand(out, cin, k, k) + 0.1 * torch.randn(out, cin, k, k, generator=g)
               for l in layers}
    init = {l: 0.01 * torch.randn(out, cin, k, k, generator=g) for l in layers}
    band = {l: {"W": metrics.score(weights[l], n_boot=50).as_dict(),
                "dW": metrics.score(weights[l], init[l], n_boot=50).as_dict()} for l in layers}
    history = [{"step": s, "loss": 2.0 / (1 + s), "val_top1_subset": s / 200, "banding": band} for s in steps]
    return SimpleNamespace(name=name, config={"preset": name, "seed": seed, "profile": "smoke"}, weights=weights,
                           init=init, metrics={"history": history, "final": {"val_top1": 0.5, "banding": band}})


# ------------------------------------------------------------------------------------ cached reduction
def test_reduction_is_cached_on_disk_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDING_RESULTS", str(tmp_path))
    monkeypatch.setattr(plots, "_REDUCTIONS", {})
    w = torch.randn(6, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    first = plots.reduction(w)
    assert torch.equal(first.pictures, reduce.reduce_weight(w).pictures)
    (path,) = (tmp_path / "_reductions").glob("*.pt")
    calls = []
    monkeypatch.setattr(reduce, "reduce_weight", lambda *a, **k: calls.append(1) or first)
    monkeypatch.setattr(plots, "_REDUCTIONS", {})  # a new process: memory empty, disk warm
    assert torch.equal(plots.reduction(w.clone()).pictures, first.pictures) and not calls
    assert plots.reduction(w + 1).pictures is first.pictures and calls == [1]  # another weight: computed
    path.write_bytes(path.read_bytes()[:100])  # truncated
    monkeypatch.setattr(plots, "_REDUCTIONS", {})
    plots.reduction(w)
    assert calls == [1, 1] and reduce.Reduction(**torch.load(path)).pictures.shape == (6, 5, 5, 3)


# ----------------------------------------------------------------------------------------- weight grid
def test_weight_grid_pixels_hold_the_pictures_in_the_given_order():
    rng = np.random.default_rng(0)
    n, kh, kw, columns = 7, 3, 4, 3  # not square, so a swapped x / y shows
    pictures = rng.random((n, kh, kw, 3))
    order = rng.permutation(n)
    score = metrics.score(pictures, pictures=True, n_boot=50)
    chart = plots.weight_grid(pictures, score, order=order, columns=columns, title="layer")
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    pixels = plots.inline_frame(spec)
    assert len(pixels) == n * kh * kw
    cell = pixels.set_index(["x", "y"])
    for slot in range(n):  # the top-left pixel of each grid slot is neuron order[slot]
        x0, y0 = (slot % columns) * (kw + 1), (slot // columns) * (kh + 1)
        assert cell.loc[(x0, y0), "n"] == order[slot]
        for py, px in [(0, 0), (kh - 1, kw - 1), (1, 2)]:
            want = "#%02x%02x%02x" % tuple(np.rint(pictures[order[slot], py, px] * 255).astype(int))
            assert cell.loc[(x0 + px, y0 + py), "c"] == want
    assert f"row share {score.row:.2f}" in spec["title"]["subtitle"]
    assert spec["encoding"]["color"]["scale"] is None
    # tooltips read each neuron's own shares from the lookup table
    lookup = pd.read_csv(io.StringIO(spec["transform"][0]["from"]["data"]["values"])).set_index("n")
    rows, cols = metrics.picture_shares(pictures)
    assert np.allclose(lookup.loc[order, "row"], rows[order], atol=1e-3)


def test_weight_grid_scales_to_512_neurons_compactly():
    pictures = torch.rand(512, 5, 5, 3)
    spec = plots.weight_grid(pictures, columns=32).to_dict()
    assert len(plots.inline_frame(spec)) == 512 * 25
    assert len(spec["data"]["values"]) < 400_000  # inline CSV, ~20 bytes a pixel


def test_weight_grids_compose_side_by_side():
    a = plots.weight_grid(torch.rand(4, 3, 3, 3), title="5a")
    assert "hconcat" in (a | plots.weight_grid(torch.rand(4, 3, 3, 3), title="5b")).to_dict()


def test_layer_grid_draws_the_nmf_pictures_in_similarity_order():
    w = fake_run(out=10).weights["block5.b"]
    red = reduce.reduce_weight(w)
    order = reduce.order_by_similarity(red.pictures)
    spec = plots.layer_grid(w, title="5b", columns=5).to_dict()
    first = plots.inline_frame(spec).drop_duplicates("n")
    assert list(first["n"]) == list(order)
    score = metrics.score(red.pictures, pictures=True, n_boot=50)
    assert f"row share {score.row:.2f}" in spec["title"]["subtitle"]
    picker = plots.static_neuron_picker_for(w, layer="block5.b").to_dict()
    assert picker["params"][0]["value"] == [{"n": int(order[0])}]  # starts on the first neuron shown


# --------------------------------------------------------------------------------------------- scores
def test_scores_frame_reads_final_scores_adds_nmf_and_article():
    runs = [fake_run("baseline", 0), fake_run("baseline", 1), fake_run("rotated", 2, layers=("block5.b",))]
    frame = plots.scores_frame(runs, ["block5.a", "block5.b"])
    assert set(frame["run"]) == {"baseline s0", "baseline s1", "rotated"}  # repeated presets get their seed
    w = frame.set_index(["run", "layer", "kind"])
    assert w.loc[("baseline s1", "block5.b", "W"), "row"] == pytest.approx(runs[1].metrics["final"]["banding"]["block5.b"]["W"]["row"])
    nmf = metrics.score(reduce.reduce_weight(runs[0].weights["block5.a"]).pictures, pictures=True)
    assert w.loc[("baseline s0", "block5.a", "NMF"), "row"] == pytest.approx(nmf.row)
    assert w.loc[("rotated", "block5.b", "article"), "col"] == 0.96
    assert ("rotated", "block5.a", "W") not in w.index  # a layer the run lacks is skipped
    assert ("baseline s0", "block5.a", "article") not in w.index  # the article has no baseline 5a number
    spec = plots.score_chart(frame).to_dict()
    assert spec["facet"]["row"]["field"] == "layer"
    table = plots.score_table(frame)
    assert table.loc[("rotated", "block5.b"), "article"] == "0.03 / 0.96"


def test_training_curves_follow_history():
    runs = [fake_run("baseline", 0), fake_run("flatten", 1, steps=(0, 25))]
    spec = plots.training_curves(runs, "block5.b").to_dict()
    data = {name: pd.DataFrame(rows) for name, rows in spec["datasets"].items()}
    shares = next(d for d in data.values() if "measure" in d)
    assert sorted(shares[shares["run"] == "flatten"]["step"].unique()) == [0, 25]
    with pytest.raises(KeyError, match="block4.e"):
        plots.training_curves(runs, "block4.e")


# --------------------------------------------------------------------------------------- architecture
def test_architecture_diagram_has_one_mark_per_layer():
    rows = models.describe(models.simplified_net(10, width=0.125, in_size=32, pools=3))
    spec = plots.architecture_diagram(rows, head="GAP").to_dict()
    (items,) = spec["datasets"].values()
    items = pd.DataFrame(items)
    assert list(items["name"]) == [r["name"] for r in rows]  # one item per layer, in forward order
    convs = [r for r in rows if r["kind"] == "conv"]
    assert (items["kind"] == "conv").sum() == len(convs) == 12
    assert (items["kind"] == "pool").sum() == 3
    assert "5b 5x5, 64, 4x4" in set(items["label"]) and "GAP → FC 10" in set(items["label"])
    # box height follows the map size, width the channel count
    h = items["y1"] - items["y0"]
    assert h[items["name"] == "block0.a"].item() > h[items["name"] == "block5.b"].item()
    width = (items["x1"] - items["x0"])[items["kind"] == "conv"]
    assert width.is_monotonic_increasing


# ------------------------------------------------------------------------------------------- clusters
def three_cluster_groups(seed=0):
    rng = np.random.default_rng(seed)
    protos = np.zeros((3, 5, 5, 3))
    protos[0, :2, :, 0] = 1  # red band at the top
    protos[1, :, 3:, 1] = 1  # green band on the right
    protos[2, 2, 2, 2] = 1  # blue centre dot
    def draw(which):
        return np.clip(protos[which] + 0.05 * rng.random((len(which), 5, 5, 3)), 0, 1)
    mixed = np.repeat([0, 1, 2], 20)
    return {("mixed", "block5.b"): draw(mixed), ("pure", "block5.b"): draw(np.full(30, 1)),
            ("pure", "block5.a"): draw(np.full(10, 2))}


def test_cluster_table_recovers_three_clusters():
    table = plots.cluster_table(three_cluster_groups(), k_range=[3], n_init=2)
    k3 = table[table["k"] == 3]
    assert np.allclose(k3.groupby(["run", "layer"])["percent"].sum(), 100)
    pct = k3.pivot_table(index=["run", "layer"], columns="cluster", values="percent")
    assert np.allclose(np.sort(pct.loc[("mixed", "block5.b")].to_numpy()), [100 / 3] * 3)
    assert pct.loc[("pure", "block5.b")].max() == 100 and pct.loc[("pure", "block5.a")].max() == 100
    assert pct.loc[("pure", "block5.b")].idxmax() == 0  # clusters are numbered largest first (50 neurons)
    centre = np.array([int(h[1:], 16) for h in k3[k3["cluster"] == 0]["centroid"].iloc[0].split()])
    assert centre.reshape(5, 5)[:, 3:].min() > 0x00c000  # cluster 0's centroid is the green right-hand band


def test_cluster_summary_has_a_k_slider_over_4_to_19():
    table = plots.cluster_table(three_cluster_groups(), n_init=1)
    assert sorted(table["k"].unique()) == list(range(4, 20))
    spec = plots.cluster_summary(table).to_dict()
    (k,) = [p for p in spec["params"] if p["name"] == "k"]
    assert (k["bind"]["input"], k["bind"]["min"], k["bind"]["max"], k["bind"]["step"]) == ("range", 4, 19, 1)
    assert "datum.k == k" in str(spec["vconcat"])


# ---------------------------------------------------------------------------------- fc6 and one neuron
def test_position_profile_chart_sorts_and_normalises():
    profile = np.ones((10, 6))
    profile[:5, 0] = 10  # half the neurons look at the top row
    spec = plots.position_profile_chart(profile).to_dict()
    heat = plots.inline_frame(spec["hconcat"][0])
    assert np.allclose(heat.groupby("col")["share"].sum(), 1, atol=1e-3)
    top = heat[heat["y"] == 0].set_index("col")["share"]
    assert top.iloc[0] == pytest.approx(10 / 15, abs=1e-3) and top.iloc[-1] == pytest.approx(1 / 6, abs=1e-3)


def test_static_neuron_picker_selects_by_click_and_slider():
    red = reduce.reduce_weight(fake_run(out=9).weights["block5.b"])
    spec = plots.static_neuron_picker(red.pictures, red.channels, layer="block5.b").to_dict()
    text = str(spec)
    (pick,) = spec["params"]
    assert pick["views"] == [spec["vconcat"][0]["layer"][0]["name"]]  # clicks on the grid's pixels
    assert pick["select"]["on"] == "click" and pick["bind"]["max"] == 8 and pick["value"] == [{"n": 0}]
    assert text.count("'param': 'neuron', 'empty': False") >= 4  # outline, picture, factors, text follow it
    assert "'neuron block5.b:' + datum.n" in text


# ---------------------------------------------------------------------------------- offline rendering
@pytest.fixture
def offline():
    before = alt.renderers.active
    plots.use_offline_renderer()
    yield
    alt.renderers.enable(before)


def test_offline_renderer_uses_the_vendored_bundle(offline):
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]}), title="</script><!-- x").mark_point().encode(x="a:Q")
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    page = bundle["text/html"]
    assert "cdn.jsdelivr" not in page and "http" not in page.replace("https://vega.github.io/schema", "")
    assert f'_static/{plots.JS_BUNDLE}' in page and "data-content_root" in page
    assert page.count("</script>") == 1  # the title cannot end the script early
    js = plots.STATIC_DIR / plots.JS_BUNDLE
    assert js.is_file() and js.stat().st_size > 500_000
    header = js.read_text(encoding="utf-8")[:400]
    assert f"Vega-Lite {plots._vl_version()}," in header  # matches the schema altair writes


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no chromium")
def test_offline_page_draws_in_a_browser(tmp_path):
    """A page in a subfolder with Sphinx's data-content_root draws the chart from ../_static."""
    (tmp_path / "_static").mkdir()
    shutil.copy(plots.STATIC_DIR / plots.JS_BUNDLE, tmp_path / "_static")
    (tmp_path / "sub").mkdir()
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]}), title="drawn offline").mark_point().encode(x="a:Q")
    snippet = plots.offline_html(chart.to_dict(), embed_options={"renderer": "svg"})
    (tmp_path / "sub" / "page.html").write_text(
        f'<!DOCTYPE html><html data-content_root="../"><head><meta charset="utf-8"></head><body>{snippet}</body></html>')
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--virtual-time-budget=5000", "--dump-dom",
                          (tmp_path / "sub" / "page.html").as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"<svg[^>]*>.*drawn offline", dom, re.S), dom[-2000:]


# --------------------------------------------------------------------------------------- live picker
def test_neuron_picker_updates_the_score_with_the_slider():
    from banding_lib import widgets

    runs = [fake_run("baseline", 0, out=6, layers=("block5.b",)), fake_run("rotated", 1, out=4, layers=("block5.b",))]
    box = widgets.neuron_picker(runs, layers=("block5.a", "block5.b"), scale=0.5)
    (run_pick, layer_pick, neuron), (image, info) = box.children[0].children, box.children[1].children
    assert layer_pick.options == ("block5.b",) and neuron.max == 5
    rows, _ = metrics.picture_shares(reduce.reduce_weight(runs[0].weights["block5.b"]).pictures)
    assert f"row share {rows[0]:.3f}" in info.value and image.value[:4] == b"\x89PNG"
    neuron.value = 3
    assert f"block5.b:3" in info.value and f"row share {rows[3]:.3f}" in info.value
    run_pick.value = "rotated"  # fewer neurons: the slider's range follows
    assert neuron.max == 3 and neuron.value == 3 and info.value.startswith("<p><b>rotated")
