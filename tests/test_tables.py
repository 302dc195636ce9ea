"""The tables the book shows: the rows a page shows of the scores, the readable score table, clusters."""
import numpy as np

from banding_lib import tables
from conftest import fake_run, fake_scores, three_cluster_groups


def test_shown_labels_seeds_where_a_preset_repeats_and_adds_the_articles_number():
    runs = [fake_run("baseline", 0), fake_run("baseline", 1), fake_run("rotated", 2, layers=("block5.b",))]
    shown = tables.shown(fake_scores(runs), ["baseline", "rotated"], ["block5.a", "block5.b"])
    assert set(shown["run"]) == {"baseline s0", "baseline s1", "rotated"}  # repeated presets get their seed
    w = shown.set_index(["run", "layer", "kind"])
    assert w.loc[("baseline s1", "block5.b", "W"), "row"] == runs[1].metrics["final"]["banding"]["block5.b"]["W"]["row"]
    assert w.loc[("rotated", "block5.b", "article"), "col"] == 0.96
    assert ("rotated", "block5.a", "W") not in w.index  # a layer the run lacks is skipped
    assert ("baseline s0", "block5.a", "article") not in w.index  # the article has no baseline 5a number
    assert tables.score_table(shown).loc[("rotated", "block5.b"), "article row / col"] == "0.03 / 0.96"
    only = tables.shown(fake_scores(runs), ["baseline"], ["block5.b"], kinds=("NMF",), seeds=[1], article=False)
    assert list(only["run"]) == ["baseline"] and list(only.seed) == [1]


def test_cluster_table_recovers_three_clusters():
    table = tables.cluster_table(three_cluster_groups(), k_range=[3], n_init=2)
    k3 = table[table["k"] == 3]
    assert np.allclose(k3.groupby(["run", "layer"])["percent"].sum(), 100)
    pct = k3.pivot_table(index=["run", "layer"], columns="cluster", values="percent")
    assert np.allclose(np.sort(pct.loc[("mixed", "block5.b")].to_numpy()), [100 / 3] * 3)
    assert pct.loc[("pure", "block5.b")].max() == 100 and pct.loc[("pure", "block5.a")].max() == 100
    assert pct.loc[("pure", "block5.b")].idxmax() == 0  # clusters are numbered largest first (50 neurons)
    centre = np.array([int(h[1:], 16) for h in k3[k3["cluster"] == 0]["centroid"].iloc[0].split()])
    assert centre.reshape(5, 5)[:, 3:].min() > 0x00c000  # cluster 0's centroid is the green right-hand band


def test_scores_link_points_at_the_published_csv_and_names_the_rows():
    line = tables.scores_link(["rotated", "baseline"], "figure 6").data
    assert 'href="scores.csv"' in line and '"rotated" or "baseline"' in line and "figure 6" in line
    assert "where" not in tables.scores_link().data  # the whole file
