import pytest

from banding_lib import article


@pytest.mark.parametrize("row, col, label", [
    (0.96, 0.03, "banded"), (0.03, 0.96, "vertical bands"), (0.48, 0.39, "not banded"),
    (0.65, 0.31, "weakly banded"), (0.2, 0.5, "weakly vertical"), (0.80, 0.25, "weakly banded"),
])
def test_verdict_reads_the_articles_thresholds(row, col, label):
    assert article.verdict(row, col).split(",")[0] == label


def test_article_numbers_are_shares():
    for (run, layer), (row, col) in article.ARTICLE_SHARES.items():
        assert 0 <= row <= 1 and 0 <= col <= 1 and row + col <= 1, (run, layer)


@pytest.mark.parametrize("claim, row, col, ref, expected", [
    ("banded", 0.90, 0.05, None, "reproduced"), ("banded", 0.80, 0.15, None, "partly"), ("banded", 0.5, 0.4, None, "not reproduced"),
    ("vertical", 0.05, 0.90, None, "reproduced"), ("vertical", 0.9, 0.05, None, "not reproduced"),
    ("not banded", 0.45, 0.35, (0.9, 0.05), "reproduced"), ("not banded", 0.7, 0.2, (0.9, 0.05), "partly"),
    ("not banded", 0.9, 0.05, (0.9, 0.1), "not reproduced"), ("still banded", 0.8, 0.1, None, "reproduced"),
    ("less banded", 0.6, 0.3, (0.9, 0.05), "reproduced"), ("less banded", 0.95, 0.02, (0.9, 0.05), "not reproduced"),
    ("leans banded", 0.67, 0.19, None, "reproduced"), ("leans banded", 0.45, 0.20, None, "partly"), ("leans banded", 0.45, 0.31, None, "not reproduced"),
    ("leans banded", 0.26, 0.26, None, "not reproduced"), ("leans vertical", 0.15, 0.60, None, "reproduced"),
])
def test_grade(claim, row, col, ref, expected):
    assert article.grade(claim, row, col, ref) == expected


@pytest.mark.parametrize("ratios, ref, expected", [
    ((1.2, 1.5, 1.0), (30.0, 12.0, 20.0), "reproduced"),  # the article: 1.2 vs 32
    ((5.0, 12.5, 4.0), (30.0, 12.0, 20.0), "partly"),  # mean below half, but one seed inside the baseline's range
    ((10.0, 11.0, 9.0), (12.0, 13.0, 14.0), "partly"),  # apart, but not halved
    ((15.0, 20.0, 25.0), (12.0, 13.0, 14.0), "not reproduced"),
])
def test_figure_7_needs_half_the_baselines_ratio_and_seeds_apart(ratios, ref, expected):
    assert article.halved(ratios, ref) == expected


def test_a_run_learned_at_twice_chance():
    assert article.learned(0.20, 10) and not article.learned(0.19, 10) and article.learned(0.002, 1000)
