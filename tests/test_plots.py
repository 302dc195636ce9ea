"""Charts hold the data they claim to draw."""
import io

import numpy as np
import pandas as pd
import pytest
import torch

from banding_lib import metrics, models, plots, reduce, tables
from conftest import fake_run, fake_scores, three_cluster_groups


# ----------------------------------------------------------------------------------------- weight grid
def test_weight_grid_pixels_hold_the_pictures_in_the_given_order():
    rng = np.random.default_rng(0)
    n, kh, kw, columns = 7, 3, 4, 3  # not square, so a swapped x / y shows
    pictures = rng.random((n, kh, kw, 3))
    order = rng.permutation(n)
    score = metrics.score(np.moveaxis(pictures, -1, 1), n_boot=50)
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
    rows, cols = metrics.band_shares(np.moveaxis(pictures, -1, 1))
    assert np.allclose(lookup.loc[order, "row"], rows[order], atol=1e-3)


def test_weight_grid_scales_to_512_neurons_compactly():
    pictures = torch.rand(512, 5, 5, 3)
    spec = plots.weight_grid(pictures, columns=32).to_dict()
    assert len(plots.inline_frame(spec)) == 512 * 25
    assert len(spec["data"]["values"]) < 400_000  # inline CSV, ~20 bytes a pixel


def test_weight_grids_compose_side_by_side():
    a = plots.weight_grid(torch.rand(4, 3, 3, 3), title="5a")
    spec = (a | plots.weight_grid(torch.rand(4, 3, 3, 3), title="5b")).to_dict()
    titles = [str(c["title"]["text"] if isinstance(c["title"], dict) else c["title"]) for c in spec["hconcat"]]
    assert titles == ["5a", "5b"] and all(c["width"] == spec["hconcat"][0]["width"] for c in spec["hconcat"])


def test_layer_grid_draws_the_nmf_pictures_in_similarity_order():
    w = fake_run(out=10).weights["block5.b"]
    red = reduce.reduce_weight(w)
    order = reduce.order_by_similarity(red.pictures)
    spec = plots.layer_grid(red, title="5b", columns=5).to_dict()
    first = plots.inline_frame(spec).drop_duplicates("n")
    assert list(first["n"]) == list(order) == list(red.order)
    score = metrics.score(red.kernels, n_boot=50)
    assert f"row share {score.row:.2f}" in spec["title"]["subtitle"]


# --------------------------------------------------------------------------------------------- scores
def test_score_chart_has_one_panel_per_layer():
    runs = [fake_run("baseline", 0), fake_run("rotated", 2, layers=("block5.b",))]
    frame = tables.shown(fake_scores(runs), ["baseline", "rotated"], ["block5.a", "block5.b"])
    spec = plots.score_chart(frame).to_dict()
    panels = spec["vconcat"]
    assert [p["title"]["text"] for p in panels] == ["block5.a", "block5.b"]
    assert [p["transform"][0]["filter"] for p in panels] == ["(datum.layer === 'block5.a')", "(datum.layer === 'block5.b')"]
    data = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert set(data[data.layer == "block5.a"].run) == {"baseline"}  # rotated has no 5a: its panel lists only the baseline
    assert [p["layer"][2]["encoding"]["x"].get("title") for p in panels] == [None, "share of a kernel's spatial variance"]


def test_training_curves_follow_history():
    runs = [fake_run("baseline", 0), fake_run("flatten", 1, steps=(0, 25))]
    spec = plots.training_curves(runs, "block5.b").to_dict()
    data = {name: pd.DataFrame(rows) for name, rows in spec["datasets"].items()}
    shares = next(d for d in data.values() if "measure" in d)
    assert sorted(shares[shares["run"] == "flatten"]["step"].unique()) == [0, 25]
    top = spec["vconcat"][0]["layer"][0]["encoding"]
    assert top["color"]["field"] == "type" and top["detail"]["field"] == "run"  # a colour per run type, a line per run
    assert top["color"]["legend"]["orient"] == "bottom"
    with pytest.raises(KeyError, match="block4.e"):
        plots.training_curves(runs, "block4.e")


# --------------------------------------------------------------------------------------- architecture
def test_architecture_diagram_has_one_mark_per_layer():
    rows = models.describe(models.simplified_net(10, width=0.125, in_size=32, pools=3))
    spec = plots.architecture_diagram(rows, head="GAP").to_dict()
    (items,) = spec["datasets"].values()
    items = pd.DataFrame(items)
    # one item per layer, in forward order, and the head's pooling as a box of its own before its classifier
    assert list(items["name"]) == [r["name"] for r in rows][:-1] + ["head.pooling", "head"]
    convs = [r for r in rows if r["kind"] == "conv"]
    assert (items["kind"] == "conv").sum() == len(convs) == 12
    assert (items["kind"] == "pool").sum() == 3 and "L2 pool → 4x4" in set(items["label"])
    assert "5b 5x5, 64, 4x4" in set(items["label"]) and {"GAP", "FC 10"} <= set(items["label"])
    default = pd.DataFrame(next(iter(plots.architecture_diagram(rows).to_dict()["datasets"].values())))
    assert "global average pool" in set(default["label"])  # the head says what it does, from models.describe
    # box height follows the map size, width the channel count
    h = items["y1"] - items["y0"]
    assert h[items["name"] == "block0.a"].item() > h[items["name"] == "block5.b"].item()
    width = (items["x1"] - items["x0"])[items["kind"] == "conv"]
    assert width.is_monotonic_increasing


# ------------------------------------------------------------------------------------------- clusters
def test_cluster_summary_has_a_k_slider_over_4_to_19():
    table = tables.cluster_table(three_cluster_groups(), n_init=1)
    assert sorted(table["k"].unique()) == list(range(4, 20))
    spec = plots.cluster_summary(table).to_dict()
    (k,) = [p for p in spec["params"] if p["name"] == "k"]
    assert (k["bind"]["input"], k["bind"]["min"], k["bind"]["max"], k["bind"]["step"]) == ("range", 4, 19, 1)
    assert "datum.k == k" in str(spec["vconcat"])


# ---------------------------------------------------------------------------------------------- fc6
def test_position_profile_chart_sorts_and_normalises():
    profile = np.ones((10, 6))
    profile[:5, 0] = 10  # half the neurons look at the top row
    spec = plots.position_profile_chart(profile).to_dict()
    heat = plots.inline_frame(spec["hconcat"][0])
    assert np.allclose(heat.groupby("col")["share"].sum(), 1, atol=1e-3)
    top = heat[heat["y"] == 0].set_index("col")["share"]
    assert top.iloc[0] == pytest.approx(10 / 15, abs=1e-3) and top.iloc[-1] == pytest.approx(1 / 6, abs=1e-3)


def test_weight_grids_are_legible_and_fit_the_column():
    pictures = np.random.default_rng(0).random((64, 3, 3, 3))
    spec = plots.weight_grid(pictures, columns=32, pixel=4).to_dict()
    assert spec["width"] <= plots.COLUMN_WIDTH and "* 8" in str(spec)  # 3x3 tiles drawn 24 px (MIN_TILE), not 12
    wide = plots.weight_grid(np.random.default_rng(0).random((64, 5, 5, 3)), columns=32, pixel=4).to_dict()
    assert wide["width"] <= plots.COLUMN_WIDTH


def test_side_by_side_draws_a_spread_sample_of_each_layer_at_one_tile_size():
    a = reduce.reduce_weight(fake_run(out=40).weights["block5.b"])
    b = reduce.reduce_weight(fake_run("rotated", out=40).weights["block5.b"])
    spec = plots.side_by_side({"baseline": a, "rotated": b}, count=10, title="5b").to_dict()
    panels = spec["concat"]
    assert [p["title"]["text"] for p in panels] == ["baseline", "rotated"]
    assert panels[0]["title"]["subtitle"] == [f"row {a.score.row:.2f} / col {a.score.col:.2f}"]
    lined = plots.side_by_side({("ours: rotated", "val. 0.70, seed 0 of 2"): b}).to_dict()["concat"][0]["title"]
    assert lined["text"] == "ours: rotated" and lined["subtitle"] == ["val. 0.70, seed 0 of 2", f"row {b.score.row:.2f} / col {b.score.col:.2f}"]
    shown = plots.inline_frame(panels[0]).drop_duplicates("n")
    assert len(shown) == 10 and shown.n.iloc[0] == plots.medoid(a.pictures)  # a typical neuron first
    assert list(shown.n) == list(plots.sample(a, 10)) and shown.n.nunique() == 10  # spread through the order
    assert panels[0]["width"] == panels[1]["width"]
    assert sum(p["width"] for p in panels[:spec["columns"]]) + 16 * (spec["columns"] - 1) <= plots.COLUMN_WIDTH
