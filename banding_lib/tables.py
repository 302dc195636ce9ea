"""The book's numbers as data: every score a page shows goes to one CSV (`book/scores.csv`), so readers
and tests can check the book's claims without rerunning anything.

One row per (page, run, seed, layer, kind); a page that runs again replaces its own rows only. Pages run in
parallel (make -j): the file is rewritten under a lock, atomically.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pandas as pd

COLUMNS = ["page", "run", "seed", "layer", "kind", "row", "col", "row_lo", "row_hi", "col_lo", "col_hi",
           "val_top1", "steps", "profile"]


def score_rows(frame: pd.DataFrame, runs, page: str) -> pd.DataFrame:
    """The rows of scores_frame(runs, ...) in COLUMNS order, with each run's seed, steps, profile and val.
    accuracy; the article's rows (kind "article") are left out (they are in banding_lib.article)."""
    by_folder = {r.path.name: r for r in runs}
    out = frame[frame.kind != "article"].copy()
    run = [by_folder[folder] for folder in out["folder"]]
    out["run"] = [r.name for r in run]
    out["seed"] = [r.config["seed"] for r in run]
    out["steps"] = [r.metrics["steps"] for r in run]
    out["profile"] = [r.config["profile"] for r in run]
    out["val_top1"] = [r.metrics["final"]["val_top1"] for r in run]
    out["page"] = page
    return out[COLUMNS]


def record(rows: pd.DataFrame, path="scores.csv") -> Path:
    """Write `rows` (score_rows) into the CSV at `path`, replacing the rows their page wrote before."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=COLUMNS)
        keep = old[~old["page"].isin(set(rows["page"]))]
        table = pd.concat([keep, rows], ignore_index=True) if len(keep) else rows.reset_index(drop=True)
        table = table.sort_values(["page", "run", "seed", "layer", "kind"], kind="stable")
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        table.to_csv(tmp, index=False, float_format="%.4f")
        os.replace(tmp, path)
    return path


def seed_mean(rows: pd.DataFrame, preset: str, layer: str, kind: str = "NMF") -> dict:
    """Mean row / col over the seeds of `preset` at `layer` in score_rows output, with the seeds' range and
    mean val. accuracy: {row, col, row_min, row_max, col_min, col_max, seeds, val_top1}."""
    f = rows[(rows.run == preset) & (rows.layer == layer) & (rows.kind == kind)]
    if f.empty:
        raise KeyError(f"no {kind} score of {preset} at {layer} in these rows")
    return {"row": f.row.mean(), "col": f.col.mean(), "row_min": f.row.min(), "row_max": f.row.max(),
            "col_min": f.col.min(), "col_max": f.col.max(), "seeds": len(f), "val_top1": f.val_top1.mean()}


def describe_scores(s: dict) -> str:
    """'row 0.87 / col 0.08 (3 seeds, rows 0.85–0.89, cols 0.07–0.09; val. acc. 0.55)' from seed_mean."""
    spread = (f", rows {s['row_min']:.2f}–{s['row_max']:.2f}, cols {s['col_min']:.2f}–{s['col_max']:.2f}"
              if s["seeds"] > 1 else "")
    return (f"row {s['row']:.2f} / col {s['col']:.2f} ({s['seeds']} seed{'s' * (s['seeds'] > 1)}{spread}; "
            f"val. acc. {s['val_top1']:.2f})")
