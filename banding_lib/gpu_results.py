"""The run at the article's scale on one GPU (benchmarks/gpu_science.py), as the book shows it: the section "At the
article's scale", the same claims graded by the same rules as the verdict (banding_lib.verdict, banding_lib.article)
on the seeds it holds, or, until it has been run, one line giving the command.

The GPU run's files are committed to RESULTS: scores.csv (the schema of book/scores.csv), curves.csv, one PNG of
5a's and 5b's NMF pictures a run, and gpu_science.json (the plan, speed, provenance).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import article, verdict
from .data import CHECKOUT

RESULTS = CHECKOUT / "benchmarks" / "gpu_science"  # where the GPU run's files are committed
COMMAND = "python -m banding_lib pack && python benchmarks/gpu_science.py --out benchmarks/gpu_science --pack pack"
TITLE = "At the article's scale"
COLUMNS = {"figure": "fig.", "the article": "the article's claim", "run, layer": "run, layer",
           "article row / col": "article row / col", "ours row / col": "ours row / col", "seeds": "seeds",
           "val. acc.": "val. acc.", "grade": "grade"}  # the verdict's columns shown, and their headings here


def load(folder=RESULTS) -> tuple[pd.DataFrame, dict] | None:
    """(scores, report) of the GPU run in `folder`, or None when it holds none (no scores.csv)."""
    folder = Path(folder)
    if not (folder / "scores.csv").exists():
        return None
    frame = pd.read_csv(folder / "scores.csv", dtype={"study": str})
    frame["study"] = frame.study.fillna("")
    report = json.loads((folder / "gpu_science.json").read_text()) if (folder / "gpu_science.json").exists() else {}
    return frame, report


def graded(frame: pd.DataFrame) -> pd.DataFrame:
    """The verdict's rows (verdict.table: the same rules, seed by seed) of the graded claims whose runs `frame`
    holds: at this scale the baseline's bands, the rotated net's, no GAP and x-pool (figures 5-8)."""
    table = verdict.table(frame)
    return table[table.grade != "not graded"].reset_index(drop=True)


def _markdown(table: pd.DataFrame) -> str:
    shown = table[list(COLUMNS)].rename(columns=COLUMNS)
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines)


def _scale(report: dict) -> str:
    """What was trained, where and how fast, in one sentence, from the run's report."""
    settings, prov, runs = report.get("settings", {}), report.get("provenance", {}), report.get("runs", [])
    model, warm, epochs = settings.get("model", {}), report.get("warm_up", {}), settings.get("epochs", 0)
    mfu = report.get("mfu", {}).get("measured_bf16_matmul")
    source = Path(str(prov.get("pack", {}).get("source", "?"))).name
    driver = f", driver {prov['driver']}" if prov.get("driver") else ""
    return (f"The article's simplified network (width {model.get('width', '?')}, {model.get('in_size', '?')}-px "
            f"input: {settings.get('input', '?')}) trained on the {warm.get('n_train', '?')} training photos of "
            f"{source} for {epochs} epoch{'s' if epochs != 1 else ''} on {prov.get('device', '?')} (torch "
            f"{prov.get('torch', '?')}{driver}, {report.get('date', '?')}): {len(runs)} runs in "
            f"{report.get('wall_s', 0):.0f} s, {report.get('img_per_s', 0):.0f} img/s"
            + (f", {mfu:.0%} of the measured bf16 matmul rate" if mfu else "") + ".")


def section(folder=RESULTS, level: int = 2) -> str:
    """The section "At the article's scale" in Markdown, its heading at `level`: with the GPU run's results in
    `folder`, what ran and the graded claims of figures 5-8 on the seeds present (a run counts as learned at its
    report's `learned_at` val. top-1, else inconclusive); without them, one line with the command."""
    heading = "#" * level + f" {TITLE}\n\n"
    loaded = load(folder)
    if loaded is None:
        return heading + (f"Not run yet: it needs one GPU for about six minutes (`{COMMAND}`, on a machine with "
                          "CUDA; `--rehearse` runs the same code on the CPU at a tiny size).\n")
    frame, report = loaded
    table = graded(frame)
    parts = [_scale(report),
             "Graded by the verdict's rules (" + ", ".join(f"*{r.name}*" for r in dict.fromkeys(
                 c.rule for c in article.GRADED if c.run in set(frame.preset))) + f") on the NMF pictures, seed by "
             f"seed, on the seeds present; a run counts as learned at val. top-1 ≥ {report.get('learned_at', 0.7):g}."]
    if report.get("rehearsal"):
        parts.insert(0, "*A CPU rehearsal at a tiny size, not the article's scale: its grades say nothing.*")
    if report.get("skipped"):
        parts.append(f"Not trained within the time: {', '.join(report['skipped'])}.")
    return heading + "\n\n".join(parts) + "\n\n" + (_markdown(table) if len(table) else "No graded claim.") + "\n"
