"""The data the book shows: cached reductions, scores per run / layer / kind, clusters."""
import numpy as np
import pytest
import torch

from banding_lib import metrics, reduce, tables
from conftest import fake_run, three_cluster_groups


def test_reduction_is_cached_on_disk_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDING_RESULTS", str(tmp_path))
    monkeypatch.setattr(tables, "_REDUCTIONS", {})
    w = torch.randn(6, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    first = tables.reduction(w)
    assert torch.equal(first.pictures, reduce.reduce_weight(w).pictures)
    (path,) = (tmp_path / "_reductions").glob("*.pt")
    calls = []
    monkeypatch.setattr(reduce, "reduce_weight", lambda *a, **k: calls.append(1) or first)
    monkeypatch.setattr(tables, "_REDUCTIONS", {})  # a new process: memory empty, disk warm
    assert torch.equal(tables.reduction(w.clone()).pictures, first.pictures) and not calls
    assert tables.reduction(w + 1).pictures is first.pictures and calls == [1]  # another weight: computed
    path.write_bytes(path.read_bytes()[:100])  # truncated
    monkeypatch.setattr(tables, "_REDUCTIONS", {})
    tables.reduction(w)
    assert calls == [1, 1] and reduce.Reduction(**torch.load(path)).pictures.shape == (6, 5, 5, 3)


def test_scores_frame_reads_final_scores_adds_nmf_and_article():
    runs = [fake_run("baseline", 0), fake_run("baseline", 1), fake_run("rotated", 2, layers=("block5.b",))]
    frame = tables.scores_frame(runs, ["block5.a", "block5.b"])
    assert set(frame["run"]) == {"baseline s0", "baseline s1", "rotated"}  # repeated presets get their seed
    w = frame.set_index(["run", "layer", "kind"])
    assert w.loc[("baseline s1", "block5.b", "W"), "row"] == pytest.approx(runs[1].metrics["final"]["banding"]["block5.b"]["W"]["row"])
    nmf = metrics.score(reduce.reduce_weight(runs[0].weights["block5.a"]).pictures, pictures=True)
    assert w.loc[("baseline s0", "block5.a", "NMF"), "row"] == pytest.approx(nmf.row)
    assert w.loc[("rotated", "block5.b", "article"), "col"] == 0.96
    assert ("rotated", "block5.a", "W") not in w.index  # a layer the run lacks is skipped
    assert ("baseline s0", "block5.a", "article") not in w.index  # the article has no baseline 5a number
    table = tables.score_table(frame)
    assert table.loc[("rotated", "block5.b"), "article"] == "0.03 / 0.96"


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
    line = tables.scores_link("03_interventions", "figure 6").data
    assert 'href="scores.csv"' in line and '"03_interventions"' in line and "figure 6" in line
    assert "where" not in tables.scores_link().data  # the whole file
