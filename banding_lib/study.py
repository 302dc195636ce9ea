"""The scale study: how banding grows with training steps, width, depth, kernel size, input size and
augmentation, each varied alone around one point, at CPU scale. New science: the article never showed
how much training banding needs.

config.STUDY is the table of its runs: each a preset trained on a profile with overrides (trained with
`python -m banding_lib train study --jobs 2`, and by `make runs`); `frame` reads the finished runs back as
one row per (point, seed, layer) with NMF row / col shares, CIs, val. accuracy and time.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import config, models, results

LAYERS = ("block5.a", "block5.b")


GPU_FLOPS = 100e12  # FLOP/s assumed for the GPU-minute estimate (~10 % of an H100's dense bf16 peak; convnets rarely sustain more)


def frame(scores: pd.DataFrame, profile: str = "cpu") -> pd.DataFrame:
    """One row per (point, seed, layer) of the study, from the scores step's table (banding_lib.scores): axis,
    label, preset, seed, layer, NMF row / col with 95 % CIs, null, val_top1, steps, cpu_min (training minutes
    of one CPU thread, as run: two runs sharing two cores), gpu_min_est (training FLOPs / GPU_FLOPS: an
    estimate, not a measurement), folder. KeyError naming a point the scores lack."""
    nmf = scores[(scores.kind == "NMF") & scores.layer.isin(LAYERS)].set_index(["folder", "layer"])
    rows = []
    for point, cfg in config.study_configs(profile):
        folder = results.run_dir(cfg).name
        for layer in LAYERS:
            if (folder, layer) not in nmf.index:
                raise KeyError(f"the scores lack the study point {point['label']!r} ({folder}): `make scores`")
            s = nmf.loc[(folder, layer)]
            rows.append({"axis": point["axis"], "label": point["label"], "preset": point["preset"],
                         "seed": cfg["seed"], "layer": layer, **{k: s[k] for k in
                         ("row", "col", "row_lo", "row_hi", "col_lo", "col_hi", "null", "val_top1", "steps")},
                         "cpu_min": s.train_min, "gpu_min_est": s.train_flops_per_image * s.steps
                         * cfg["train"]["batch_size"] / GPU_FLOPS / 60, "folder": folder})
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The study as a readable table, one row per run (indexed by its label, seed added where not 0): what
    was varied, 5b row and column share with 95 % intervals, 5a row / col, val. accuracy, CPU-minutes, GPU-seconds (est.)."""
    ci = lambda v, lo, hi: f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
    rows = []
    for (axis, label, seed), g in frame.groupby(["axis", "label", "seed"], sort=False):
        a, b = (g[g.layer == layer].iloc[0] for layer in LAYERS)
        rows.append({"run": label + (f" (seed {seed})" if seed else ""), "varied": axis,
                     "5b row": ci(b.row, b.row_lo, b.row_hi), "5b col": ci(b.col, b.col_lo, b.col_hi),
                     "5a row / col": f"{a.row:.2f} / {a.col:.2f}", "val. acc.": round(b.val_top1, 3),
                     "CPU-min": round(b.cpu_min, 1), "GPU-s (est.)": round(b.gpu_min_est * 60, 2)})
    return pd.DataFrame(rows).set_index("run")


def _convs(cfg) -> int:
    groups = {g: len(ch) for g, _, ch in models.GROUPS}
    return sum(groups[b] for b in cfg["model"].get("blocks", models.BLOCKS))


# What each axis of the study varies, read off a run's resolved config (its value, as the axis's tick label).
AXIS_VALUES = {
    "training steps": lambda c: f"{c['train']['steps']}",
    "weight decay": lambda c: f"{c['train']['weight_decay']:g}",
    "depth": lambda c: f"{_convs(c)} convs",
    "kernel size": lambda c: "{0}x{0}".format((c["model"].get("kernels") or models.KERNELS)[-1]),
    "width": lambda c: f"x{c['model']['width']:g}",
    "input size": lambda c: f"{c['model']['in_size']} px",
    "augmentation": lambda c: f"crop ≥{c['train']['crop_scale'][0]:g}",  # the smallest crop area of random crops
}


def axes(frame: pd.DataFrame, profile: str = "cpu") -> pd.DataFrame:
    """The study axis by axis (AXIS_VALUES), for one small chart each: for every axis, the profile's own run and the
    runs that vary that one thing (training steps: the GAP runs at the profile's weight decay), one row per (axis,
    run, layer) with `value` (the tick label, "*" marking the profile's value), `order` (as the study lists them) and
    frame's scores. Columns as `frame`, plus value, order, profile (bool)."""
    cfgs = {results.run_dir(cfg).name: cfg for _, cfg in config.study_configs(profile)}
    ref = frame[frame.axis == "the profile"].label.iloc[0]
    steps = frame.label.str.startswith("GAP,") & frame.label.str.endswith("the profile's")
    parts = []
    for axis, value in AXIS_VALUES.items():
        varied = frame[steps] if axis == "training steps" else frame[frame.axis == axis]
        if varied.empty:
            continue
        rows = pd.concat([frame[frame.label == ref], varied]).drop_duplicates(["folder", "layer"])
        base = rows.folder == rows.folder.iloc[0]
        labels = [value(cfgs[f]) + ("*" if b else "") for f, b in zip(rows.folder, base)]
        parts.append(rows.assign(axis=axis, value=labels, profile=base.to_numpy()))
    out = pd.concat(parts, ignore_index=True)
    if "training steps" in set(out.axis):  # steps in increasing order, the rest as listed (profile first)
        out["order"] = out.groupby("axis").cumcount()
        s = out.axis == "training steps"
        out.loc[s, "order"] = out.loc[s, "steps"]
    return out


def contrast(frame: pd.DataFrame, layer: str = "block5.b") -> pd.DataFrame:
    """The GAP effect over training (config.STUDY's "GAP over training" points), one row per run: head ("GAP" /
    "no GAP"), decay (the label's weight decay), steps, val_top1, row / col and the row/col ratio of `layer`'s
    NMF pictures with a 95 % interval (the bootstrap intervals' extremes: row_lo / col_hi to row_hi / col_lo)."""
    f = frame[(frame.axis == "GAP over training") & (frame.layer == layer)].copy()
    f["head"] = f.label.str.split(",").str[0]
    f["decay"] = f.label.str.split("weight decay ").str[-1]
    f["ratio"] = f.row / f.col.clip(lower=1e-3)
    f["ratio_lo"] = f.row_lo / f.col_hi.clip(lower=1e-3)
    f["ratio_hi"] = f.row_hi / f.col_lo.clip(lower=1e-3)
    return f[["head", "decay", "steps", "seed", "val_top1", "row", "col", "ratio", "ratio_lo", "ratio_hi", "label"]]


def contrast_finding(c: pd.DataFrame, halved: float = 0.5) -> str:
    """The finding of the GAP-over-training contrast, in words, from contrast(...): per weight decay and length,
    the no-GAP ratio as a share of the baseline's, and from which length on (if any) it is at most `halved`."""
    lines = []
    for decay, g in c.groupby("decay", sort=False):
        pairs = g.pivot_table(index="steps", columns="head", values=["ratio", "val_top1"])
        if ("ratio", "GAP") not in pairs or ("ratio", "no GAP") not in pairs:
            continue
        share = pairs["ratio", "no GAP"] / pairs["ratio", "GAP"]
        steps = ", ".join(f"{s} steps: {share[s]:.2f} (val. {pairs['val_top1', 'GAP'][s]:.2f} / "
                          f"{pairs['val_top1', 'no GAP'][s]:.2f})" for s in share.index)
        apart = [s for s in share.index if share[s] <= halved]
        since = (f"at most {halved:g} x from {apart[0]} steps on" if apart and apart == list(share.index[share.index >= apart[0]])
                 else f"at most {halved:g} x at {', '.join(map(str, apart))} steps only" if apart else f"never at most {halved:g} x")
        lines.append(f"- **weight decay {decay}**: no-GAP 5b row/col ratio as a share of the baseline's, "
                     f"{steps} (val. accuracy GAP / no GAP): {since}.")
        gap = g[g["head"] == "GAP"].groupby("steps")[["row", "ratio", "val_top1"]].mean()
        if len(gap) > 1:
            trend = ", ".join(f"{s}: row {r.row:.2f}, ratio {r.ratio:.1f}, val. {r.val_top1:.2f}" for s, r in gap.iterrows())
            (s0, s1), (first, last) = gap.index[-2:], (gap.iloc[-2], gap.iloc[-1])
            verb = "still rises" if last.ratio > first.ratio * 1.1 else "levels off" if last.ratio >= first.ratio * 0.9 else "falls"
            lines.append(f"- **more training** (the GAP net, seed 0; steps: 5b's NMF row share, row / column ratio, "
                         f"val. accuracy): {trend}. From {s0} to {s1} steps its banding {verb} (ratio {first.ratio:.1f} "
                         f"→ {last.ratio:.1f}): what more compute would do at this scale, measured, not extrapolated.")
    return "\n".join(lines)


RECIPE_SEARCH = Path(__file__).resolve().parents[1] / "benchmarks" / "recipe_search.json"


def write_search(path, out: dict, cols: list[str], line: str) -> None:
    """A recipe search's result: `out` (rule, winner(s), cpu, rows) as JSON at `path` (committed, read by page
    06), and its rows printed as a table under `cols`, then `line`."""
    Path(path).write_text(json.dumps(out, indent=1))
    print(" | ".join(cols))
    for r in out["rows"]:
        print(" | ".join(str(r.get(c, "")) for c in cols))
    print(line)


def most_accurate(fit: list[dict], tie: float = 0.01) -> str | None:
    """The recipe searches' choice among the candidates that qualify (rows with candidate, val_top1, pflop): the
    highest validation top-1, ties within `tie` going to fewer training FLOPs; None when none qualifies."""
    if not fit:
        return None
    best = max(r["val_top1"] for r in fit)
    return min((r for r in fit if r["val_top1"] >= best - tie), key=lambda r: (r["pflop"], -r["val_top1"]))["candidate"]


def _search(path, cols: dict, defaults: dict | None = None) -> dict | None:
    """A committed recipe search's JSON with its rows as a table (cols: the JSON's keys -> the table's headers,
    indexed by candidate; `defaults` fills keys older rows lack), or None where the file is missing."""
    if not Path(path).exists():
        return None
    out = json.loads(Path(path).read_text())
    rows = [{**(defaults or {}), **r} for r in out["rows"]]
    table = pd.DataFrame(rows, columns=list(cols)).rename(columns=cols)
    return {**out, "table": table.set_index(cols["candidate"])}


def recipe_search(path=RECIPE_SEARCH) -> dict | None:
    """The recipe search that chose the cpu profile (benchmarks/recipe_search.py writes it; committed):
    {"rule": text, "winner": name, "cpu": {...}, "table": DataFrame, one row per candidate and seed}, or None."""
    return _search(path, {"candidate": "candidate", "seed": "seed", "changes": "what it changes", "steps": "steps",
                          "val_top1": "val. acc.", "row_5b": "5b row (raw W)", "col_5b": "5b col (raw W)",
                          "cpu_min": "CPU-min", "pflop": "PFLOP", "precision": "precision"})


ARCH_RECIPE_SEARCH = RECIPE_SEARCH.with_name("arch_recipe_search.json")


def arch_recipe_search(path=ARCH_RECIPE_SEARCH) -> dict | None:
    """The recipe search that chose each torchvision architecture's recipe on the cpu profile
    (benchmarks/arch_recipe_search.py writes it; committed): {"rule", "winners": {arch: name}, "cpu", "budget_min",
    "table": DataFrame, one row per candidate and run}, or None."""
    return _search(path, {"candidate": "candidate", "variant": "run", "changes": "what it changes", "neurons": "neurons",
                          "val_top1": "val. acc.", "first_loss": "first loss", "row": "row (raw W)", "col": "col (raw W)",
                          "train_min": "minutes", "pflop": "PFLOP", "precision": "precision"}, {"variant": "baseline"})
