"""The same grades on another machine: figures 5-8 graded from two builds of the book's runs in the two precisions.

    python benchmarks/grades_by_precision.py [FP32_SCORES] [BF16_SCORES]

Defaults: benchmarks/scores_fp32_7e2129c.csv (the book's runs as committed in 7e2129c: trained in fp32 on an AMD
EPYC without bf16 units) and book/scores.csv (this build). Each side is graded by the verdict's own rules
(banding_lib.verdict.table, the rules fixed before the runs); writes benchmarks/grades_by_precision.json, which the
verdict page shows. Not part of `make book` (it needs a second machine's build).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from banding_lib import verdict  # noqa: E402

FIGURES = ("5", "6", "7", "8")
OUT = Path(__file__).resolve().parent / "grades_by_precision.json"


def graded(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"study": str})
    frame["study"] = frame.study.fillna("")
    table = verdict.table(frame)
    return table[table.figure.isin(FIGURES) & (table.grade != "not graded")].set_index("run, layer")


def main(fp32=ROOT / "benchmarks" / "scores_fp32_7e2129c.csv", bf16=ROOT / "book" / "scores.csv") -> int:
    fp32, bf16 = Path(fp32).resolve(), Path(bf16).resolve()
    a, b = graded(fp32), graded(bf16)
    rows = []
    for key in a.index.intersection(b.index):
        rows.append({"claim": a.loc[key, "the article"], "run, layer": key, "figure": a.loc[key, "figure"],
                     "fp32 ours": a.loc[key, "ours row / col"], "fp32 ratio": a.loc[key, "ratio"],
                     "fp32 grade": a.loc[key, "grade"], "fp32 seeds pass": a.loc[key, "seeds pass"],
                     "bf16 ours": b.loc[key, "ours row / col"], "bf16 ratio": b.loc[key, "ratio"],
                     "bf16 grade": b.loc[key, "grade"], "bf16 seeds pass": b.loc[key, "seeds pass"],
                     "same": a.loc[key, "grade"] == b.loc[key, "grade"]})
    out = {"fp32": str(fp32.relative_to(ROOT)), "bf16": str(bf16.relative_to(ROOT)), "rows": rows}
    print(pd.DataFrame(rows).drop(columns="claim").to_string(index=False))
    OUT.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(f"-> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
