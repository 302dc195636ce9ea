"""What this machine computes with: the CPU's model and bf16 units, the GPU, and the precision a run trains in.

Machines of one kind differ in CPU model: some Xeons have bf16 matrix units (AMX-BF16, AVX512-BF16), where a
bf16 matmul runs several times an fp32 one; elsewhere bf16 is emulated and slower than fp32. A run's precision
is part of its identity (config.resolve puts it in config["train"]["precision"]), so a bf16 run never reuses
an fp32 run's folder or vice versa, and its provenance records the CPU that trained it.
"""
from __future__ import annotations

import functools
import platform
import time
from pathlib import Path

import torch

BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of CPUs with bf16 matrix / dot-product units
REPORTED_FLAGS = BF16_FLAGS + ("amx_tile", "avx512f", "avx512_vnni", "avx2", "fma")


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset]:
    """(model name, flags) of the first CPU in /proc/cpuinfo; ("", {}) where there is none (macOS, Windows)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor(), frozenset()
    fields = dict(line.split(":", 1) for line in text.split("\n\n")[0].splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return fields.get("model name", platform.processor()), frozenset(fields.get("flags", "").split())


def cpu() -> dict:
    """{"model": "AMD EPYC ...", "flags": [the REPORTED_FLAGS it has], "bf16_units": bool}: for provenance."""
    model, flags = _cpuinfo()
    return {"model": model, "flags": [f for f in REPORTED_FLAGS if f in flags], "bf16_units": cpu_has_bf16()}


def cpu_has_bf16() -> bool:
    """True where the CPU has bf16 matrix or dot-product units (then oneDNN runs bf16 convs and matmuls on them)."""
    return any(f in _cpuinfo()[1] for f in BF16_FLAGS)


def gpu() -> str | None:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def precision(amp: bool, forced: str = "auto") -> str:
    """The precision a run trains in: "bf16" (autocast, loss in fp32) or "fp32".
    forced "bf16" / "fp32" wins; "auto": bf16 when amp and the device has bf16 units (every CUDA GPU this
    project targets; a CPU with AMX-BF16 or AVX512-BF16), else fp32."""
    if forced not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {forced!r}")
    if forced != "auto":
        return forced
    return "bf16" if amp and (torch.cuda.is_available() or cpu_has_bf16()) else "fp32"


def precision_note(prec: str) -> str:
    """One line saying which precision a run uses here and why (printed by the CLI before training)."""
    model = cpu()["model"] or "this CPU"
    if torch.cuda.is_available():
        return f"precision {prec} on {gpu()}"
    if prec == "bf16":
        return f"precision bf16 (autocast, loss in fp32) on {model}" + (
            "" if cpu_has_bf16() else ": no bf16 units, bf16 is emulated and slow")
    return f"precision fp32 on {model}" + ("" if cpu_has_bf16() else " (no AMX-BF16 / AVX512-BF16 units)")


def matmul_peak(dtype: torch.dtype, n: int = 2048, seconds: float = 1.0, device: str = "cpu") -> float:
    """Measured GFLOP/s of an n x n matmul in `dtype` at the current thread count (best of repeats, ~seconds)."""
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    a @ b  # first-call costs
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end or best == float("inf"):
        t0 = time.perf_counter()
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9
