"""What the publishing workflow adds to the committed book (make html, executing nothing; seconds): given the
repository's URL, every notebook page carries Binder and Colab buttons that open its executed notebook
book/<page>.ipynb there; without one (a local build) the book still builds with no warning (-W) and no button;
scores.csv is published beside the pages either way."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/example-owner/banding-repro"
BRANCH = "some-branch"
NOTEBOOK_PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))


def make_html(out: Path, *args: str) -> Path:
    """make html of the committed book into `out`; returns the HTML folder. Uses the environment these tests run
    in as it is (-o: nothing is installed)."""
    venv = [f"VENV={sys.prefix}", "-o", f"{sys.prefix}/.installed"] if sys.prefix != sys.base_prefix else []
    proc = subprocess.run(["make", "html", f"OUT={out}", *venv, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return make_html(tmp_path_factory.mktemp("published"), f"REPOSITORY_URL={REPOSITORY}", f"BRANCH={BRANCH}")


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Path:
    return make_html(tmp_path_factory.mktemp("local"))


def test_the_book_has_notebook_pages():
    assert len(NOTEBOOK_PAGES) >= 8, NOTEBOOK_PAGES


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_every_notebook_page_launches_its_executed_notebook_on_binder_and_colab(published, page):
    text = (published / f"{page}.html").read_text()
    binder = f"https://mybinder.org/v2/gh/example-owner/banding-repro/{BRANCH}?urlpath=lab/tree/book/{page}.ipynb"
    colab = f"https://colab.research.google.com/github/example-owner/banding-repro/blob/{BRANCH}/book/{page}.ipynb"
    assert f'href="{binder}"' in text, f"{page}: no Binder button to {binder}"
    assert f'href="{colab}"' in text, f"{page}: no Colab button to {colab}"


def test_without_a_repository_no_page_has_a_launch_button(local):
    for page in NOTEBOOK_PAGES:
        text = (local / f"{page}.html").read_text()
        assert "mybinder.org" not in text and "colab.research.google.com" not in text, page
    # and the default repository of Jupyter Book's own config never stands in for ours
    assert "executablebooks" not in (local / "00_verdict.html").read_text()


def test_scores_csv_is_published_beside_the_pages(published, local):
    for html in (published, local):
        assert (html / "scores.csv").read_bytes() == (ROOT / "book" / "scores.csv").read_bytes()
