"""Does a rerun on this machine give the book's numbers? Scores every book run found in a results root and sets
each beside the committed `book/scores.csv` (NMF row / col of one layer, validation accuracy, training minutes),
with each side's CPU and precision: the check a reader runs after `make runs` on their own hardware.

    make runs                                   # or: python -m banding_lib train book --jobs 2
    python benchmarks/reproduce.py              # writes benchmarks/reproduce.json (committed: the last machine that ran it)
    python benchmarks/reproduce.py --results /path/to/results --layer block5.a

Runs not (yet) trained are listed and skipped, so a partial cache can be compared.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from banding_lib import config, results, scores  # noqa: E402


def rerun_rows(profile: str, layer: str, root) -> tuple[list[dict], list[str]]:
    """The book's NMF row of `layer` (scores.run_rows) for each finished book run in `root` that has the layer;
    the names of the runs not trained."""
    rows, missing = [], []
    for preset, spec in config.RUNS.items():
        for seed in spec["seeds"]:
            folder = results.run_dir(config.resolve(preset, profile, seed), root)
            if not results.is_finished(folder):
                missing.append(f"{preset} s{seed}")
                continue
            run = results.load_run(folder)
            prov = {"precision": run.config["train"]["precision"], "cpu": run.metrics["provenance"]["cpu"]["model"]}
            rows += [r | prov for r in scores.run_rows(run) if r["layer"] == layer and r["kind"] == "NMF"]
    return rows, missing


def compare(rerun: pd.DataFrame, book: pd.DataFrame, layer: str) -> pd.DataFrame:
    """The rerun beside the book's rows of the same runs (NMF score of `layer`), with the differences."""
    book = book[(book.layer == layer) & (book.kind == "NMF") & book.book][["preset", "seed", "val_top1", "row", "col", "train_min"]]
    both = rerun.merge(book, on=["preset", "seed"], suffixes=("", "_book"))
    for k in ("val_top1", "row", "col"):
        both[f"d_{k}"] = both[k] - both[f"{k}_book"]
    return both


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--layer", default="block5.b")
    ap.add_argument("--results", default=None, help="results root (default $BANDING_RESULTS or ./results)")
    ap.add_argument("--book", default=str(ROOT / "book" / "scores.csv"), help="the book's scores (default book/scores.csv)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "reproduce.json"))
    args = ap.parse_args(argv)
    rows, missing = rerun_rows(args.profile, args.layer, args.results)
    if not rows:
        print(f"no book run of profile {args.profile!r} is trained in {results.results_root(args.results)}: run `make runs` first")
        return 1
    both = compare(pd.DataFrame(rows), pd.read_csv(args.book), args.layer)
    shown = ["preset", "seed", "val_top1", "val_top1_book", "row", "row_book", "col", "col_book", "train_min", "train_min_book"]
    print(f"{args.layer}, NMF: this rerun ({rows[0]['cpu']}, {rows[0]['precision']}) beside {args.book}")
    print(both[shown].round(3).to_string(index=False))
    summary = {f"mean_abs_d_{k}": round(float(both[f"d_{k}"].abs().mean()), 3) for k in ("row", "col", "val_top1")}
    summary |= {"max_abs_d_row": round(float(both.d_row.abs().max()), 3), "runs": len(both),
                "train_min_ratio": round(float(both.train_min.sum() / both.train_min_book.sum()), 2)}
    print(json.dumps(summary), "\nnot trained:", ", ".join(missing) or "none")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"layer": args.layer, "summary": summary, "missing": missing,
                                          "rows": both.round(4).to_dict("records")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
