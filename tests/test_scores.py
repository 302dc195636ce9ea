"""The scores step: every score the book shows, in one table; the pages read it."""
import pandas as pd
import pytest
import torch

from banding_lib import metrics, reduce, scores
from conftest import fake_run, fake_scores


def test_reduction_is_cached_on_disk_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDING_RESULTS", str(tmp_path))
    monkeypatch.setattr(reduce, "_REDUCTIONS", {})
    w = torch.randn(6, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    first = reduce.reduction(w)
    assert torch.equal(first.pictures, reduce.reduce_weight(w).pictures)
    (path,) = (tmp_path / "_reductions").glob("*.pt")
    calls = []
    monkeypatch.setattr(reduce, "reduce_weight", lambda *a, **k: calls.append(1) or first)
    monkeypatch.setattr(reduce, "_REDUCTIONS", {})  # a new process: memory empty, disk warm
    assert torch.equal(reduce.reduction(w.clone()).pictures, first.pictures) and not calls
    assert reduce.reduction(w + 1).pictures is first.pictures and calls == [1]  # another weight: computed
    path.write_bytes(path.read_bytes()[:100])  # truncated
    monkeypatch.setattr(reduce, "_REDUCTIONS", {})
    reduce.reduction(w)
    assert calls == [1, 1] and reduce.Reduction(**torch.load(path)).pictures.shape == (6, 5, 5, 3)


def test_run_rows_score_w_dw_from_the_saved_weights_and_the_nmf_score_of_every_layer():
    run = fake_run("baseline", 1)
    run.metrics["final"]["banding"] = {}  # what training froze is never read: the step scores the weights
    frame = pd.DataFrame(scores.run_rows(run)).set_index(["layer", "kind"])
    assert set(frame.index) == {(l, k) for l in ("block5.a", "block5.b") for k in ("W", "dW", "NMF")}
    assert frame.loc[("block5.b", "W"), "row"] == metrics.score(run.weights["block5.b"]).row
    assert frame.loc[("block5.b", "dW"), "col"] == metrics.score(run.weights["block5.b"], run.init["block5.b"]).col
    red = reduce.reduce_weight(run.weights["block5.a"])
    assert frame.loc[("block5.a", "NMF"), "row"] == pytest.approx(metrics.score(red.kernels).row)
    assert frame.loc[("block5.a", "NMF"), "mirror"] == pytest.approx(metrics.mirror_shares(red.kernels).mean())
    assert frame.loc[("block5.a", "W")].learned and frame.loc[("block5.a", "W")].seed == 1


def test_written_scores_load_back_and_a_missing_or_foreign_file_names_make_scores(tmp_path):
    frame = fake_scores([fake_run("baseline", s) for s in (0, 1)])
    path = scores.write(frame, tmp_path / "scores.csv")
    back = scores.load("smoke", path)
    assert list(back.columns) == scores.COLUMNS and len(back) == len(frame) and back.book.all()
    s = scores.seed_mean(back, "baseline", "block5.b")
    assert s.seeds == 2 and s.row == pytest.approx(frame[(frame.kind == "NMF") & (frame.layer == "block5.b")].row.mean())
    with pytest.raises(scores.MissingScores, match="make scores PROFILE=cpu"):
        scores.load("cpu", path)  # another profile's scores
    with pytest.raises(scores.MissingScores, match="make scores"):
        scores.load("smoke", tmp_path / "none.csv")
    with pytest.raises(KeyError, match="no NMF score of flatten"):
        scores.of(back, "flatten", "block5.b")


def test_the_scores_step_writes_its_rows_in_the_table_of_runs_order(tmp_path):
    """Two runs of the step give the same file: rows in config.RUNS order, never a set's (hash) order."""
    from banding_lib import config, train

    import unittest.mock as mock

    presets = ["baseline", "rotated", "flatten", "x_pool"]  # a set's order matches this 1 time in 24
    for preset in presets[::-1]:
        train.train(config.resolve(preset, "smoke", 0), tmp_path, progress=False)
    runs = {p: {**config.RUNS[p], "seeds": (0,)} for p in presets}
    with mock.patch.object(config, "RUNS", runs), mock.patch.object(config, "STUDY", []):
        frame = scores.compute("smoke", tmp_path)
    assert list(dict.fromkeys(frame.preset)) == presets
    with mock.patch.object(scores, "CLUSTERED", tuple(presets)):  # figure 12's clusters: computed here, not by a page
        clusters = scores.clusters("smoke", tmp_path)
    assert set(clusters.run) == set(presets) and set(clusters.layer) == {"block5.a", "block5.b"}
    assert set(clusters.k) == set(range(4, 20))
    assert clusters.groupby(["k", "run", "layer"]).percent.sum().round(6).eq(100).all()


def test_discovery_scores_the_article_panels_offline_and_the_pretrained_layers_when_at_hand():
    import torchvision

    from banding_lib import panels, pretrained

    offline, scanned = scores.discovery(load=lambda arch: None)
    assert list(offline.arch) == ["googlenet", "resnet50", "vgg19", "alexnet"] and set(offline.source) == {"article"}
    vgg = offline.set_index("arch").loc["vgg19"]
    assert vgg.layer == "features.32" and vgg.row == panels.reduction("vgg19_pretrained", "features.32").score.row
    assert scanned.empty and list(scanned.columns) == ["name", "shape", "row", "col", "null"]

    torch.manual_seed(0)
    nets = {"alexnet": torchvision.models.alexnet(weights=None).eval()}  # random weights stand in for ImageNet's
    online, scanned = scores.discovery(load=nets.get)
    alex = online[online.arch == "alexnet"].set_index("kind")
    assert list(alex.source) == ["torchvision", "torchvision"] and list(alex.layer) == ["features.10", "classifier.1"]
    fc6 = metrics.score(pretrained.fc6_by_position(nets["alexnet"]))
    assert alex.loc["W by position", "row"] == pytest.approx(fc6.row) and scanned.empty  # the scan is GoogLeNet's
