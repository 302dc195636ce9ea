import pytest
import torch



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
