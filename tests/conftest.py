import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The whole book at the smoke profile (make book: train, papermill, Jupyter Book) in a temporary folder,
    built once per session for test_book.py and test_browser.py. Returns the folder: book/ holds the executed
    notebooks, _build/html/ the HTML."""
    out = tmp_path_factory.mktemp("book")
    env = {**os.environ, "BANDING_RESULTS": str(out / "results")}
    # make uses the virtual environment these tests run in (the Makefile's default is ./.venv)
    venv = [f"VENV={sys.prefix}"] if sys.prefix != sys.base_prefix else []
    proc = subprocess.run(["make", "book", "PROFILE=smoke", f"BOOK={out / 'book'}", f"OUT={out}", "JOBS=2", *venv],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny nets are many small ops: two threads spin-wait on each other on a shared 2-core machine, and CPU
    results are bitwise reproducible at a fixed thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Decoded-split caches and results go to a temporary folder, never the user's."""
    monkeypatch.setenv("BANDING_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("BANDING_RESULTS", str(tmp_path_factory.getbasetemp() / "results"))


def banded_layer(out=16, cin=8, k=5, seed=0, noise=0.05) -> torch.Tensor:
    """A conv weight whose kernels are horizontal bands (constant along x) plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.randn(out, cin, k, 1, generator=g)  # one value per row y
    return rows.expand(out, cin, k, k) + noise * torch.randn(out, cin, k, k, generator=g)
