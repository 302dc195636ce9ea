"""The same science in bf16 and fp32: the cpu profile's baseline (3 seeds) and no-GAP control (seed 0) trained
in both precisions, NMF row / col of 5a and 5b and validation accuracy side by side (the speed issue's check
that bf16 autocast changes no result beyond the seeds' spread).

    python -m banding_lib train baseline --seed 0 1 2 --set precision=fp32 --jobs 2    # and flatten --seed 0
    python -m banding_lib train baseline --seed 0 1 2 --set precision=bf16 --jobs 2    # where bf16 is not the default
    python benchmarks/precision.py            # the table; writes benchmarks/precision.json

Both precisions must be trained (results_root: $BANDING_RESULTS); each run's provenance names its CPU.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from banding_lib import config, reduce, results  # noqa: E402

RUNS = [("baseline", s) for s in (0, 1, 2)] + [("flatten", 0)]
LAYERS = ("block5.a", "block5.b")
OUT = Path(__file__).resolve().parent / "precision.json"


def row(preset: str, seed: int, precision: str) -> dict | None:
    folder = results.run_dir(config.resolve(preset, "cpu", seed, precision=precision))
    if not results.is_finished(folder):
        return None
    run = results.load_run(folder)
    out = {"run": preset, "seed": seed, "precision": precision, "val_top1": round(run.metrics["final"]["val_top1"], 3),
           "train_min": round(run.metrics["wall_s"] / 60, 2), "cpu": run.metrics["provenance"]["cpu"]["model"]}
    for layer in LAYERS:
        s = reduce.reduction(run.weights[layer]).score
        out[f"{layer} row / col"] = f"{s.row:.2f} / {s.col:.2f}"
        short = layer.removeprefix("block").replace(".", "")  # "5b"
        out[f"{short}_row"], out[f"{short}_col"] = round(s.row, 3), round(s.col, 3)
    return out


def main() -> int:
    rows = [r for p, s in RUNS for prec in ("bf16", "fp32") if (r := row(p, s, prec))]
    missing = [f"{p} s{s} {prec}" for p, s in RUNS for prec in ("bf16", "fp32") if row(p, s, prec) is None]
    frame = pd.DataFrame(rows)
    shown = ["run", "seed", "precision", "val_top1", "block5.a row / col", "block5.b row / col", "train_min"]
    print(frame[shown].to_string(index=False) if len(frame) else "no run trained yet")
    if missing:
        print("not trained:", ", ".join(missing))
    base = frame[frame.run == "baseline"]
    spread = {prec: {"5b_row_range": round(g["5b_row"].max() - g["5b_row"].min(), 3),
                     "val_top1_range": round(g.val_top1.max() - g.val_top1.min(), 3)} for prec, g in base.groupby("precision")}
    pairs = frame.pivot_table(index=["run", "seed"], columns="precision", values=["5b_row", "5b_col", "val_top1"])
    diff = {f"{r} s{s}": {k: round(float(pairs.loc[(r, s), (k, "bf16")] - pairs.loc[(r, s), (k, "fp32")]), 3)
                          for k in ("5b_row", "5b_col", "val_top1")}
            for r, s in pairs.index if not pairs.loc[(r, s)].isna().any()}
    print("bf16 - fp32 per run:", json.dumps(diff), "\nthe baseline seeds' range per precision:", json.dumps(spread))
    OUT.write_text(json.dumps({"rows": rows, "bf16_minus_fp32": diff, "seed_range": spread, "missing": missing}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
