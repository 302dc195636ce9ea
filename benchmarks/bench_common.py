"""What every benchmark of benchmarks/run.py shares: the machine it ran on, and one way to print its table and
write benchmarks/out/<name>.json."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def report(name: str, rows: list[dict], extra: dict | None = None) -> dict:
    """Print the machine and `rows` as a table; write benchmarks/out/<name>.json."""
    out = {"benchmark": name, "machine": machine(), "rows": rows, **(extra or {})}
    print(f"\n== {name} ==")
    for k, v in out["machine"].items():
        print(f"  {k:16s} {v}")
    if rows:
        cols = list(rows[0])
        width = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
        print("  " + "  ".join(f"{c:>{width[c]}}" for c in cols))
        for r in rows:
            print("  " + "  ".join(f"{_fmt(r.get(c)):>{width[c]}}" for c in cols))
    for k, v in (extra or {}).items():
        print(f"  {k}: {v}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(out, indent=1))
    print(f"  -> {OUT / f'{name}.json'}")
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)
