"""The whole book pipeline at the smoke profile, into a temporary folder: papermill executes every
notebook, Jupyter Book builds with warnings as errors, and the HTML holds every figure. The build itself is
the session fixture `built_book` (conftest.py), shared with test_browser.py."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["00_verdict", "01_discovery", "02_simplified_net", "03_interventions", "04_popular_architectures",
         "05_follow_ups", "06_scale", "07_glossary", "08_probe"]
# Each article figure: the page that regenerates it and a title its chart must carry.
FIGURES = {
    1: ("01_discovery", "mixed5b"), 2: ("01_discovery", "layer4.2.conv2"), 3: ("01_discovery", "AlexNet"),
    4: ("02_simplified_net", "The simplified network at 224 px"), 5: ("02_simplified_net", "Baseline, 5b"),
    6: ("03_interventions", r"Rotated 90\u00b0, 5b"),  # chart specs are ASCII JSON: the degree sign escaped
    7: ("03_interventions", "No GAP (flatten), 5b"),
    8: ("03_interventions", "x-pooling, 5a"), 9: ("04_popular_architectures", "googlenet baseline"),
    10: ("04_popular_architectures", "resnet50 rotated"), 11: ("04_popular_architectures", "vgg19 flatten"),
    12: ("03_interventions", "k-means clusters"),
}


def test_every_notebook_executed_and_every_page_built(built_book):
    html = built_book / "_build" / "html"
    for page in PAGES:
        assert (built_book / "book" / f"{page}.ipynb").exists()
        text = (html / f"{page}.html").read_text()
        assert "Traceback" not in text and "An Exception was encountered" not in text
    assert (html / "_static" / "vega-bundle.min.js").exists()


def _baseline_5b(scores):
    return scores[scores.book & (scores.preset == "baseline") & (scores.layer == "block5.b") & (scores.kind == "NMF")]


def test_every_score_shown_is_in_scores_csv(built_book):
    """The scores step wrote one schema, every run of the book and of the study, and the pages print its numbers."""
    from banding_lib import config, scores as scores_step

    scores = scores_step.load("smoke", built_book / "book" / "scores.csv")
    assert list(scores.columns) == scores_step.COLUMNS
    assert set(scores[scores.book].preset) == set(config.RUNS) and (scores.study != "").sum() > 0
    base = scores[scores.book & (scores.preset == "baseline") & (scores.layer == "block5.b")]
    assert sorted(base[base.kind == "NMF"].seed) == [0, 1, 2] and set(base.kind) == {"W", "dW", "NMF"}
    assert scores[["row", "col"]].notna().all().all() and ((scores.row >= 0) & (scores.row <= 1)).all()
    # the grade printed on page 02 is computed from these very numbers
    nmf = _baseline_5b(scores)
    text = (built_book / "book" / "02_simplified_net.ipynb").read_text()
    assert f"row {nmf.row.mean():.2f} / col {nmf.col.mean():.2f}" in text


def test_html_holds_every_figure_offline(built_book):
    html = built_book / "_build" / "html"
    for fig, (page, title) in FIGURES.items():
        assert title in (html / f"{page}.html").read_text(), f"figure {fig}: {title!r} not on {page}"
    for page in PAGES:
        text = (html / f"{page}.html").read_text()
        assert "cdn.jsdelivr.net/npm/vega" not in text  # charts load the vendored bundle
        # the live picker stays in the notebook, out of the static page: no dead copy, no widget manager
        assert "application/vnd.jupyter.widget-state+json" not in text and "embed-amd.js" not in text
    interventions = (html / "03_interventions.html").read_text()
    assert '"input": "range"' in interventions or '"input":"range"' in interventions  # the static k slider
    assert "widgets.neuron_picker(" in (built_book / "book" / "03_interventions.ipynb").read_text()


def test_screenshot_of_the_interventions_page_shows_the_weight_grid(built_book, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    shot = tmp_path / "page.png"
    page = built_book / "_build" / "html" / "03_interventions.html"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    "--virtual-time-budget=15000", "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=180)
    assert shot.exists()
    from PIL import Image
    import numpy as np

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    # A drawn weight grid is many small saturated colour cells; an empty chart or text is grey on white.
    saturation = img.max(axis=2) - img.min(axis=2)
    assert (saturation > 80).mean() > 0.01, "no coloured weight pictures in the screenshot"
    shutil.copy(shot, built_book / "interventions.png")


def test_committed_scores_match_the_committed_book():
    """book/scores.csv and the executed notebooks in book/ come from the same make book run."""
    import pandas as pd

    path = ROOT / "book" / "scores.csv"
    if not path.exists():
        pytest.skip("no committed book/scores.csv")
    nmf = _baseline_5b(pd.read_csv(path))
    assert f"row {nmf.row.mean():.2f} / col {nmf.col.mean():.2f}" in (ROOT / "book" / "02_simplified_net.ipynb").read_text()


def test_the_verdict_page_grades_from_the_same_numbers_as_the_pages(built_book):
    """Every grade the verdict page prints for figure 5 is the one page 02 prints, from scores.csv's rows (and
    inconclusive where a seed did not learn, as at the smoke scale's dozen steps)."""
    from banding_lib import article

    text = (built_book / "book" / "00_verdict.ipynb").read_text()
    page = (built_book / "book" / "02_simplified_net.ipynb").read_text()
    nmf = _baseline_5b(__import__("pandas").read_csv(built_book / "book" / "scores.csv"))
    learned = all(article.learned(acc, 10) for acc in nmf.val_top1)  # smoke: 10 classes of synthetic scenes
    seeds = article.Seeds(tuple(nmf.row), tuple(nmf.col))
    grade = article.BANDED_RULE.grade(seeds) if learned else "inconclusive"
    assert f"{nmf.row.mean():.2f} / {nmf.col.mean():.2f}" in text and grade in text
    assert f"Figure 5: {grade}" in page
    html = (built_book / "_build" / "html" / "00_verdict.html").read_text()
    assert "profile = " not in html and "injected-parameters" not in html  # parameter cells stay out of the page
