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
