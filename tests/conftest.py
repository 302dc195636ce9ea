import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from banding_lib import metrics

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
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
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


def fake_run(name="baseline", seed=0, out=12, cin=4, k=5, layers=("block5.a", "block5.b"), steps=(0, 50, 100)):
    """A results.Run look-alike: banded weights, final scores and a short history."""
    g = torch.Generator().manual_seed(seed)
    weights = {l: torch.randn(out, cin, k, 1, generator=g).expand(out, cin, k, k) + 0.1 * torch.randn(out, cin, k, k, generator=g)
               for l in layers}
    init = {l: 0.01 * torch.randn(out, cin, k, k, generator=g) for l in layers}
    band = {l: {"W": metrics.score(weights[l], n_boot=50).as_dict(),
                "dW": metrics.score(weights[l], init[l], n_boot=50).as_dict()} for l in layers}
    history = [{"step": s, "loss": 2.0 / (1 + s), "val_top1_subset": s / 200, "banding": band} for s in steps]
    return SimpleNamespace(name=name, config={"preset": name, "seed": seed, "profile": "smoke"}, weights=weights,
                           init=init, path=Path(f"{name}-smoke-s{seed}-fake"),
                           metrics={"history": history, "final": {"val_top1": 0.5, "banding": band}, "num_classes": 10,
                                    "steps": steps[-1], "wall_s": 60.0})


def fake_scores(runs, study=None):
    """The scores step's table (banding_lib.scores) of fake runs, as `make scores` writes it; study: {preset:
    study label} for runs that are study points."""
    import pandas as pd
    from banding_lib import scores

    rows = [{**row, "book": True, "study": (study or {}).get(run.name, "")} for run in runs for row in scores.run_rows(run)]
    return pd.DataFrame(rows, columns=scores.COLUMNS)


def three_cluster_groups(seed=0):
    rng = np.random.default_rng(seed)
    protos = np.zeros((3, 5, 5, 3))
    protos[0, :2, :, 0] = 1  # red band at the top
    protos[1, :, 3:, 1] = 1  # green band on the right
    protos[2, 2, 2, 2] = 1  # blue centre dot
    def draw(which):
        return np.clip(protos[which] + 0.05 * rng.random((len(which), 5, 5, 3)), 0, 1)
    mixed = np.repeat([0, 1, 2], 20)
    return {("mixed", "block5.b"): draw(mixed), ("pure", "block5.b"): draw(np.full(30, 1)),
            ("pure", "block5.a"): draw(np.full(10, 2))}
