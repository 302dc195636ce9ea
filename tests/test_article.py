import pytest

from banding_lib import article, config
from banding_lib.article import Seeds


@pytest.mark.parametrize("row, col, label", [
    (0.96, 0.03, "banded"), (0.03, 0.96, "vertical bands"), (0.48, 0.39, "not banded"),
    (0.65, 0.31, "weakly banded"), (0.2, 0.5, "weakly vertical"), (0.80, 0.25, "weakly banded"),
])
def test_verdict_reads_the_articles_thresholds(row, col, label):
    assert article.label(row, col) == label and article.verdict(row, col).startswith(label + ", row/col")


def test_every_claim_names_a_real_run_its_numbers_are_shares_and_comparisons_have_a_reference():
    for c in article.CLAIMS:
        assert c.run in config.RUNS or c.run.endswith("_pretrained"), c
        assert c.article is None or (0 <= c.article[0] <= 1 and 0 <= c.article[1] <= 1 and sum(c.article) <= 1), c
        if c.rule in (article.HALVED_RULE, article.LESS_BANDED):
            assert c.ref is not None and c.ref[0] in config.RUNS, c
    assert article.article_shares()["baseline", "block5.b"] == (0.96, 0.03)


def test_what_the_article_found_derives_from_the_claims():
    assert article.found("vgg19_baseline") == "vgg19 retrained: banded (0.84 / 0.13)"
    assert "never run" in article.found("xy_pool")
    key = article.grading_key()
    assert key.count("\n") + 1 == len({c.rule for c in article.GRADED}) and f"row ≥ {article.STRONG[0]}" in key


@pytest.mark.parametrize("rule, row, col, ref, expected", [
    (article.BANDED_RULE, 0.90, 0.05, None, "reproduced"), (article.BANDED_RULE, 0.80, 0.15, None, "partly"),
    (article.BANDED_RULE, 0.5, 0.4, None, "not reproduced"),
    (article.VERTICAL, 0.05, 0.90, None, "reproduced"), (article.VERTICAL, 0.9, 0.05, None, "not reproduced"),
    (article.STILL_BANDED, 0.8, 0.1, None, "reproduced"), (article.STILL_BANDED, 0.65, 0.31, None, "partly"),
    (article.STILL_BANDED, 0.4, 0.35, None, "not reproduced"),
    (article.LESS_BANDED, 0.6, 0.3, (0.9, 0.05), "reproduced"), (article.LESS_BANDED, 0.95, 0.02, (0.9, 0.05), "not reproduced"),
    (article.LESS_BANDED, 0.27, 0.27, (0.26, 0.26), "not reproduced"),  # noise beside noise: nothing weakened
    (article.LEANS_BANDED, 0.67, 0.19, None, "reproduced"), (article.LEANS_BANDED, 0.45, 0.20, None, "partly"),
    (article.LEANS_BANDED, 0.45, 0.31, None, "not reproduced"), (article.LEANS_BANDED, 0.26, 0.26, None, "not reproduced"),
    (article.LEANS_VERTICAL, 0.15, 0.60, None, "reproduced"),
])
def test_rules(rule, row, col, ref, expected):
    seeds = lambda r, c: Seeds(r, c, (r / c,))
    assert rule.grade(seeds(row, col), None if ref is None else seeds(*ref)) == expected


@pytest.mark.parametrize("ratios, ref, expected", [
    ((1.2, 1.5, 1.0), (30.0, 12.0, 20.0), "reproduced"),  # the article: 1.2 vs 32
    ((5.0, 12.5, 4.0), (30.0, 12.0, 20.0), "partly"),  # mean below half, but one seed inside the baseline's range
    ((10.0, 11.0, 9.0), (12.0, 13.0, 14.0), "partly"),  # apart, but not halved
    ((15.0, 20.0, 25.0), (12.0, 13.0, 14.0), "not reproduced"),
])
def test_figure_7_needs_half_the_baselines_ratio_and_seeds_apart(ratios, ref, expected):
    assert article.HALVED_RULE.grade(Seeds(0.5, 0.4, ratios), Seeds(0.9, 0.05, ref)) == expected


def test_a_run_learned_at_twice_chance():
    assert article.learned(0.20, 10) and not article.learned(0.19, 10) and article.learned(0.002, 1000)
    assert not article.learned(0.50, 10, "googlenet") and article.learned(0.61, 10, "vgg19")  # torchvision: >= 0.60
