"""Tests for banding_lib.verdict: every claim graded from the scores of the runs it names, one line per figure."""
import pandas as pd
import pytest
import torch

from banding_lib import article, verdict
from conftest import fake_run, fake_scores


def _runs(rotated_acc=0.5):
    runs = [fake_run("baseline", s) for s in (0, 1, 2)]
    for s in (0, 1, 2):  # the same weights turned 90 degrees: vertical bands
        r = fake_run("rotated", s)
        r.weights = {l: torch.rot90(w, 1, dims=(-2, -1)) for l, w in r.weights.items()}
        r.metrics["final"]["val_top1"] = rotated_acc
        runs.append(r)
    return runs


def test_table_grades_only_the_claims_whose_runs_are_given():
    frame = fake_scores(_runs())
    table = verdict.table(frame)
    assert list(table.figure) == ["5", "5", "6"]  # flatten, x_pool, ... are not in these runs
    b = verdict.means(frame)["baseline", "block5.b"]
    assert b.seeds == 3 and table.grade.iloc[0] == article.BANDED_RULE.grade(verdict.seeds(b))
    assert table.grade.iloc[2] == "reproduced" and f"{b.row:.2f} / {b.col:.2f}" in table["ours row / col"].iloc[0]
    assert verdict.line(table, "6") == "Figure 6: reproduced (1 of 1 claims reproduced)"
    assert verdict.grade_of(table, "rotated", "block5.b") == "reproduced"
    with pytest.raises(KeyError, match="no claim about flatten, block5.b"):
        verdict.grade_of(table, "flatten", "block5.b")
    assert verdict.lines(table).startswith("**Verdict**") and "Figure 5: " in verdict.lines(table)
    assert "could not be tested" not in verdict.headline(table)  # nothing untested: no "0 could not be tested"
    assert verdict.headline(table).startswith(f"**Of {len(table)} graded claims, ")


def test_a_claim_on_a_run_that_did_not_learn_is_inconclusive_and_said_so():
    table = verdict.table(fake_scores(_runs(rotated_acc=0.15)))
    assert verdict.grade_of(table, "rotated", "block5.b") == "inconclusive"
    assert verdict.line(table, "6") == "Figure 6: inconclusive (0 of 1 claims reproduced, 1 inconclusive)"
    claim = table[table.grade == "inconclusive"]["the article"].iloc[0]
    assert "could not be tested here" in verdict.headline(table) and f"Untested: {claim} (fig. 6)," in verdict.headline(table)


def test_the_table_says_how_many_seeds_pass_and_a_split_is_at_threshold():
    frame = fake_scores(_runs())
    assert list(verdict.table(frame)["seeds pass"])[2] == "3 / 3"  # fake runs: every rotated seed vertical alike
    m = verdict.means(frame)
    s = m["rotated", "block5.b"].copy()
    s.at["rows"], s.at["cols"] = (0.9, *s.rows[1:]), (0.05, *s.cols[1:])  # seed 0 alone turns to rows
    claim = next(c for c in article.CLAIMS if c.run == "rotated")
    split = {**m, ("rotated", "block5.b"): s}
    assert verdict.passing(claim, split) == "2 / 3" and verdict.grade(claim, split) == "at threshold"


def test_the_raw_weights_are_graded_beside_the_pictures_and_a_disagreement_flagged():
    table = verdict.table(fake_scores(_runs()))
    assert set(table["W grade"]) <= set(article.GRADES) and set(table["W agrees"]) <= {"yes", "no"}
    assert all((w == g) == (a == "yes") for w, g, a in zip(table["W grade"], table.grade, table["W agrees"]))
    html = verdict.styled(table).to_html()
    assert "direction" in html and "strength" in html and "seeds pass" in html


def test_noise_puts_the_twins_move_beside_the_seeds_range():
    runs = _runs()
    twin = fake_run("baseline", 0)
    frame = fake_scores(runs)
    twin_rows = fake_scores([twin], study={"baseline": "the profile on 2 threads (same seed)"}).assign(book=False)
    text = verdict.noise(__import__("pandas").concat([frame, twin_rows], ignore_index=True))
    assert "on 2 threads" in text and "a move of 0.00 in row share" in text and "over 3 seeds" in text


def test_the_styled_table_links_each_figure_and_pictures_a_comparison_claim_beside_its_reference():
    runs = _runs() + [fake_run("flatten", s) for s in (0, 1, 2)]
    table = verdict.table(fake_scores(runs))
    strips = {key: f'<img alt="{key[0]} {key[1]}">' for key in
              [("baseline", "block5.a"), ("baseline", "block5.b"), ("rotated", "block5.b"), ("flatten", "block5.a"),
               ("flatten", "block5.b")]}
    html = verdict.styled(table, strips).to_html()
    assert '<a href="03_interventions.html#figure-6">6</a>' in html and '02_simplified_net.html#figure-5' in html
    claim7 = next(c for c in article.CLAIMS if c.run == "flatten" and c.layer == "block5.b")
    assert claim7.ref == ("baseline", "block5.b")
    row7 = html[html.index(claim7.says[:30]):].split("</tr>")[0]
    assert '<img alt="flatten block5.b">' in row7 and '<img alt="baseline block5.b">' in row7  # ours, then the reference
    assert "white-space: nowrap" in row7 and "article.verdict" not in html
    assert ">pictured<" in html and ">pictured<" not in verdict.styled(table).to_html()  # no strips: no picture column
    theirs = verdict.styled(table, strips, {("flatten", "block5.b"): '<img alt="article flatten">'}).to_html()
    row7 = theirs[theirs.index(claim7.says[:30]):].split("</tr>")[0]
    assert row7.index('alt="article flatten"') < row7.index('alt="flatten block5.b"') < row7.index('alt="baseline block5.b"')


def test_a_contrast_weakened_from_an_unbanded_control_is_said_to_hold_in_direction_only():
    rows = {"resnet50_baseline, layer4.2.conv2": "not reproduced", "resnet50_flatten, layer4.2.conv2": "reproduced",
            "googlenet_baseline, inception5b.branch3.1": "reproduced",
            "googlenet_flatten, inception5b.branch3.1": "reproduced"}
    table = pd.DataFrame({"run, layer": list(rows), "grade": list(rows.values()),
                          "ours row / col": ["0.37 / 0.27", "0.31 / 0.30", "0.66 / 0.18", "0.39 / 0.37"],
                          "strength": [0.19, 0.23, 0.83, 1.8]})
    note = verdict.weakened_from_little(table)
    assert "resnet50 without global pooling" in note and "(0.37 / 0.27)" in note and "0.23 x the article" in note
    assert "googlenet" not in note  # its control is banded
    table.loc[0, "grade"] = "at threshold"  # a control that is not clearly unbanded: no caution
    assert verdict.weakened_from_little(table) == ""
