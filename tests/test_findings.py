"""The book's sentences say what their numbers show (banding_lib.findings, from the scores step's table)."""
import torch

from banding_lib import article, findings, metrics, reduce, scores, verdict
from conftest import fake_run, fake_scores


def _frame(flatten_rotated=True, vflip_noise=False):
    runs = [fake_run("baseline", s) for s in (0, 1, 2)]
    for preset in ("xy_pool", "random_rotation", "vflip"):
        r = fake_run(preset, 0)
        if preset == "xy_pool" or (preset == "vflip" and vflip_noise):  # isotropic noise: not banded
            r.weights = {l: torch.randn(w.shape, generator=torch.Generator().manual_seed(7)) for l, w in r.weights.items()}
        runs.append(r)
    return fake_scores(runs)


def test_layer_line_leads_with_the_verdicts_grade_and_gives_the_articles_number():
    frame = _frame()
    text = findings.layer_line(frame, verdict.table(frame), "baseline", "block5.b", figure="Figure 5")
    s = scores.seed_mean(frame, "baseline", "block5.b")
    assert text.startswith("**Figure 5 (the baseline's 5b is fully banded): reproduced.**")
    assert f"row {s.row:.2f} / col {s.col:.2f}" in text and f"row/col {s.row / s.col:.1f}" in text
    assert "article 0.96 / 0.03" in text and "3 seeds" in text
    assert not any(f"*{word}*" in text for word in ("banded", "weakly banded", "not banded"))  # one grade wording


def test_vertical_neurons_counts_the_pictures_that_lean_vertical():
    red = reduce.reduce_weight(fake_run("rotated", out=20).weights["block5.b"])
    rows, cols = red.shares()
    n = int((cols > rows).sum())
    assert f"rotated {n} of 20 ({100 * n / 20:.0f} %)" in findings.vertical_neurons({"rotated": red})


def test_the_baseline_finding_says_lower_or_higher_than_the_article_by_its_numbers():
    frame = _frame()
    s = scores.seed_mean(frame, "baseline", "block5.b")
    text = findings.baseline(frame)
    assert f"{abs(0.96 - s.row):.2f} {'lower' if s.row < 0.96 else 'higher'} on rows" in text and "0.50, 0.50, 0.50" in text


def test_symmetry_reads_the_mirror_share_against_noise_by_the_named_margin():
    frame = _frame()
    mean = scores.of(frame, "baseline", "block5.b").mirror.mean()
    clear = mean >= metrics.mirror_null(5)["mirror"] + article.SYMMETRY_MARGIN
    assert ("clearly symmetric" in findings.symmetry(frame)) == clear


def test_the_xy_pooling_prediction_is_checked_and_the_regularizers_compared_with_the_baseline():
    frame = _frame()
    xy = scores.seed_mean(frame, "xy_pool", "block5.b")
    assert article.label(xy.row, xy.col) == "not banded" and "holds here" in findings.xy_pool(frame)
    assert findings.regularizers(frame).count("did not weaken") == 2  # the same banded fakes as the baseline
    assert "random vertical flips weakened" in findings.regularizers(_frame(vflip_noise=True))


def test_the_training_finding_reads_the_history():
    run = fake_run("baseline", 0)
    assert "at step 0" in findings.over_training(run) and "at step 100" in findings.over_training(run)


def test_the_grading_key_names_every_rule_and_the_learned_threshold():
    key = findings.grading_key()
    assert all(f"*{c.rule.name}*" in key for c in article.GRADED) and f"{article.LEARNED:g} x chance" in key


def test_the_probe_finding_checks_each_prediction_from_the_numbers():
    import pandas as pd

    from banding_lib import tables

    frame = _frame()
    rows = []
    gain = {"baseline": 0.2, "xy_pool": -0.1, "random_rotation": 0.0, "vflip": 0.15}  # vflip keeps it: "no"
    for run in frame[frame.book].drop_duplicates("folder").itertuples():
        for weights in ("trained",) + (("init",) if run.preset == "baseline" else ()):
            for axis, acc in (("y", 0.5 + (gain[run.preset] if weights == "trained" else 0)), ("x", 0.5)):
                rows.append({"run": run.folder, "preset": run.preset, "seed": run.seed, "weights": weights, "axis": axis,
                             "features": "head", "accuracy": acc, "lo": acc - 0.05, "hi": acc + 0.05, "chance": 0.2})
    table = tables.probe_table(frame, pd.DataFrame(rows))
    assert len(table) == 9 and (table.v_minus_h[table.weights == "init"] == 0).all()
    text = findings.probe(table)
    assert "keep more vertical than horizontal position: **yes** (each seed: baseline +0.20, +0.20, +0.20)" in text
    assert "vertical flips remove the vertical advantage: **no** (each seed: vflip +0.15)" in text
    assert "random rotations remove it: **yes**" in text and "the rotated net the reverse: **no**" in text
    assert "by construction (xy_pool: their" in text and "5 runs:" in text  # of 6 trained runs, xy_pool left out

