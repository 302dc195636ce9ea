"""Tests for banding_lib.verdict: every claim graded from the runs it names, one line per figure."""
import pytest
import torch

from banding_lib import article, verdict
from conftest import fake_run


def _runs():
    runs = {("baseline", s): fake_run("baseline", s) for s in (0, 1, 2)}
    for s in (0, 1, 2):  # the same weights turned 90 degrees: vertical bands
        r = fake_run("rotated", s)
        r.weights = {l: torch.rot90(w, 1, dims=(-2, -1)) for l, w in r.weights.items()}
        runs["rotated", s] = r
    return runs


def test_claims_name_real_runs_and_grades():
    from banding_lib import config

    for c in verdict.CLAIMS:
        assert c.run in config.RUNS and (c.grade is None or c.grade in (
            "banded", "vertical", "still banded", "not banded", "less banded", "leans banded", "leans vertical", "halved"))
        if c.grade in ("not banded", "less banded", "halved"):
            assert c.ref is not None and c.ref[0] in config.RUNS


def test_table_grades_only_the_claims_whose_runs_are_given():
    table = verdict.table(_runs())
    assert list(table.figure) == ["5", "5", "6"]  # flatten, x_pool, ... are not in these runs
    means = verdict.scores(_runs())
    b = means.loc[("baseline", "block5.b")]
    assert b.seeds == 3 and table.grade.iloc[0] == article.grade("banded", b.row, b.col)
    assert table.grade.iloc[2] == "reproduced" and f"{b.row:.2f} / {b.col:.2f}" in table["ours row / col"].iloc[0]
    assert verdict.line(table, "6") == "Figure 6: reproduced (1 of 1 claims reproduced)"
    assert verdict.grade_of(table, "rotated", "block5.b") == "reproduced"
    with pytest.raises(KeyError, match="no claim about flatten, block5.b"):
        verdict.grade_of(table, "flatten", "block5.b")
    assert verdict.lines(table).startswith("**Verdict**") and "Figure 5: " in verdict.lines(table)


def test_a_claim_on_a_run_that_did_not_learn_is_inconclusive_and_said_so():
    runs = _runs()
    for s in (0, 1, 2):
        runs["rotated", s].metrics = {**runs["rotated", s].metrics,
                                      "final": {**runs["rotated", s].metrics["final"], "val_top1": 0.15}}
    table = verdict.table(runs)
    assert verdict.grade_of(table, "rotated", "block5.b") == "inconclusive"
    assert verdict.line(table, "6") == "Figure 6: inconclusive (0 of 1 claims reproduced, 1 inconclusive)"
    assert "**Cannot be tested here (a run did not learn)** (1 of 3)" in verdict.summary(table)


def test_the_table_says_how_many_seeds_alone_agree_with_each_grade():
    table = verdict.table(_runs())
    assert list(table["seeds agreeing"]) == ["3 / 3"] * 3  # fake runs: every seed banded alike
    means = verdict.scores(_runs())
    key = ("rotated", "block5.b")
    means.at[key, "rows"] = (0.9, means.loc[key].rows[1], means.loc[key].rows[2])  # seed 0 alone turns to rows
    means.at[key, "cols"] = (0.05, means.loc[key].cols[1], means.loc[key].cols[2])
    assert verdict.agreeing(verdict.CLAIMS[2], means) == "2 / 3"


def test_noise_puts_the_twins_move_beside_the_seeds_range():
    runs = _runs()
    twin = fake_run("baseline", 0)
    twin.config = {**twin.config, "train": {"threads": 2}}
    text = verdict.noise(runs, twin)
    assert "on 2 threads" in text and "a move of 0.00 in row share" in text and "over 3 seeds" in text
