"""The scores step, between training and the pages: every score the book shows, computed once, in one table.

    make runs    -> results/<run>/ (training)
    make scores  -> book/scores.csv (this module: `python -m banding_lib scores --profile cpu`)
    notebooks    -> read book/scores.csv (`load`) and the cached reductions; they compute no score

One row per (run, layer, kind) of every run the book shows (config.book_configs: every preset with its seeds,
and the scale study's points), for every layer the run tracks: kind "W" (raw weight) and "dW" (weight minus
its init), scored here from the saved weights (training's own log of them is not read: a metric change needs no
retraining); for the layers the pages draw (DRAWN), "NMF" scores the reduced
pictures (reduce.reduction, which this step fills the cache of), with their left-right symmetry ("mirror"): one
run's rows come from banding_lib.run_scores, which the GPU script shares. `book` marks the runs of the
table of runs, `study` names the scale-study points a run is (a run can be both: the profile itself is the
baseline's seed 0).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from . import article, config, mechanism, metrics, reduce, results, tables
from .layers import ARTICLE
from .run_scores import COLUMNS, DRAWN, SCORE_FIELDS, fields, run_rows  # noqa: F401  (scores.run_rows etc.)

DEFAULT = Path("scores.csv")  # beside the executed notebooks (the pages run in book/)


class MissingScores(FileNotFoundError):
    """The scores file is missing or was made for another profile: the message names the command."""


def compute(profile: str = "cpu", root=None) -> pd.DataFrame:
    """The scores of every run the book shows at `profile` (runner.MissingRuns when one is not trained)."""
    from .runner import MissingRuns

    book = list(dict.fromkeys(results.run_dir(config.resolve(p, profile, s), root)  # table order, not hash order
                              for p, spec in config.RUNS.items() for s in spec["seeds"]))
    study: dict[Path, list[str]] = {}
    for point, c in config.study_configs(profile):
        study.setdefault(results.run_dir(c, root), []).append(point["label"])
    folders = list(dict.fromkeys([*book, *study]))
    missing = [f.name for f in folders if not results.is_finished(f)]
    if missing:
        raise MissingRuns(f"{len(missing)} run(s) of profile {profile!r} are not trained yet: `make runs "
                          f"PROFILE={profile}` (or `python -m banding_lib train book --profile {profile}`)")
    rows = [{**row, "book": folder in book, "study": "; ".join(study.get(folder, []))}
            for folder in folders for row in run_rows(results.load_run(folder))]
    return pd.DataFrame(rows, columns=COLUMNS)


def write(frame: pd.DataFrame, path=DEFAULT) -> Path:
    """Write the scores atomically (one schema: COLUMNS)."""
    path = Path(path)
    results.atomic_write(path, lambda tmp: frame[COLUMNS].to_csv(tmp, index=False, float_format="%.6f"))
    return path


def load(profile: str, path=DEFAULT) -> pd.DataFrame:
    """The scores a page shows (what `write` wrote), for `profile`; MissingScores naming `make scores` when the
    file is missing or holds another profile's scores."""
    path = Path(path)
    if not path.exists():
        raise MissingScores(f"no scores file {path.resolve()}: compute it with `make scores PROFILE={profile}` "
                            f"(or `python -m banding_lib scores --profile {profile} --out {path}`)")
    frame = pd.read_csv(path, dtype={"study": str})
    frame["study"] = frame.study.fillna("")  # an empty cell: not a study point
    if set(frame.profile) != {profile}:
        raise MissingScores(f"{path} holds the scores of profile(s) {sorted(set(frame.profile))}, not {profile!r}: "
                            f"`make scores PROFILE={profile}`")
    return frame


def of(frame: pd.DataFrame, preset: str, layer: str, kind: str = "NMF", seeds=None) -> pd.DataFrame:
    """The rows of `preset` at `layer` of the book's runs (one per seed; `seeds`: those only)."""
    f = frame[frame.book & (frame.preset == preset) & (frame.layer == layer) & (frame.kind == kind)]
    f = f if seeds is None else f[f.seed.isin(seeds)]
    if f.empty:
        raise KeyError(f"no {kind} score of {preset} at {layer} in the scores")
    return f.sort_values("seed")


def seed_mean(frame: pd.DataFrame, preset: str, layer: str, kind: str = "NMF") -> pd.Series:
    """Mean row / col over the seeds of a book run, the seeds' range, each seed's ratio, the mean val.
    accuracy and whether every seed learned: what the verdict grades and the pages describe."""
    f = of(frame, preset, layer, kind)
    ratios = tuple(f.row / f.col.clip(lower=1e-6))
    return pd.Series({"row": f.row.mean(), "col": f.col.mean(), "row_min": f.row.min(), "row_max": f.row.max(),
                      "col_min": f.col.min(), "col_max": f.col.max(), "seeds": len(f), "val_top1": f.val_top1.mean(),
                      "learned": bool(f.learned.all()), "ratios": ratios, "rows": tuple(f.row), "cols": tuple(f.col),
                      "mirror": f.mirror.mean(), "null": f["null"].iloc[0]})


PROBED_NULLS = ("baseline", "rotated", "tin10_baseline")  # runs whose random init is probed too (the probe's null)


def probes(profile: str = "cpu", root=None) -> pd.DataFrame:
    """The position probe (banding_lib.probe) of every run of the simplified net the book shows, every seed,
    and of the random init of PROBED_NULLS' seeds: one row per (run, weights, axis, feature set)."""
    from . import probe, runner

    runs = runner.load(config.SIMPLIFIED, profile, None, root)
    photos = lambda run: probe.probe_photos(run.config)  # each run's own photo set (remembered per set)
    frames = [probe.probe(run, images=photos(run), root=root) for run in runs.values()]
    frames += [probe.probe(run, weights="init", images=photos(run), root=root) for (p, _), run in runs.items()
               if p in PROBED_NULLS]
    return pd.concat(frames, ignore_index=True).assign(profile=profile)


def main(profile: str, out=DEFAULT, root=None) -> int:
    frame = compute(profile, root)
    print(f"scores: {len(frame)} rows of {frame.folder.nunique()} runs -> {write(frame, out)}")
    _beside(out, "probe.csv", "position probe", probes(profile, root))
    base = config.resolve("baseline", profile, 0)
    _beside(out, "gradients.csv", "gradient shapes at init (every head)",
            mechanism.table(profile, *mechanism.val_photos(base)))
    _beside(out, "photo_sets.csv", "photo sets' vertical structure", pd.DataFrame(
        [{"set": name, **mechanism.photo_structure(config.resolve(roles["baseline"], profile, 0))}
         for name, roles in config.PHOTO_SETS.items()]))
    _beside(out, "nmf_null.csv", "NMF amplification", amplification())
    _beside(out, "clusters.csv", "k-means clusters (figure 12)", clusters(profile, root))
    found, scanned = discovery()
    _beside(out, "pretrained.csv", "pretrained models' layers (figures 1-3)", found)
    _beside(out, "scan.csv", "scan of pretrained GoogLeNet", scanned)
    return 0


def discovery(load=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Page 01's numbers: (the scores of the pretrained layers of figures 1-3, the scan of pretrained GoogLeNet).
    Each architecture's layer is torchvision's pretrained model's where `load(arch)` gives one (online, or the
    weights in the torch hub cache), else the article's published panel of it (source "article"); AlexNet's fc6,
    by input position, and the scan need the pretrained weights (an empty scan offline)."""
    from . import panels, pretrained
    from .layers import layer_weight

    load = load or pretrained.quietly
    rows, scanned = [], []
    for arch, layer in ARTICLE.items():
        model = load(arch)
        if model is None:
            path, source, s = layer.panel, "article", panels.reduction(f"{arch}_pretrained", layer.panel).score
        else:
            path, source = layer.path, "torchvision"
            s = reduce.reduction(layer_weight(model, path)).score
        rows.append({"arch": arch, "layer": path, "kind": "NMF", "source": source, **fields(s)})
        if model is not None and arch == "alexnet":
            fc6 = metrics.score(pretrained.fc6_by_position(model))
            rows.append({"arch": arch, "layer": "classifier.1", "kind": "W by position", "source": source, **fields(fc6)})
        if model is not None and arch == "googlenet":
            scanned = pretrained.scan(model)
    return pd.DataFrame(rows), pd.DataFrame(scanned, columns=["name", "shape", "row", "col", "null"])


CLUSTERED = ("baseline", "rotated", "flatten", "x_pool", *article.PERSISTING)  # the appendix's runs (page 03)


def clusters(profile: str, root=None) -> pd.DataFrame:
    """The appendix's k-means clusters (figure 12): tables.cluster_table of the NMF pictures of 5a and 5b of
    CLUSTERED's seed-0 runs, every k of the page's slider."""
    runs = {p: results.load_run(results.run_dir(config.resolve(p, profile, 0), root)) for p in CLUSTERED}
    return tables.cluster_table({(p, layer): reduce.reduction(run.weights[layer]).pictures.numpy()
                                 for p, run in runs.items() for layer in ("block5.a", "block5.b")})


def _beside(out, name: str, what: str, frame: pd.DataFrame) -> None:
    """Write one of the scores step's side tables beside the scores, atomically, and say so."""
    path = Path(out).with_name(name)
    results.atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6f"))
    print(f"{what}: {len(frame)} rows -> {path}")


def amplification(neurons: int = 96, channels=(96, 512), kernel: int = 5, seed: int = 0) -> pd.DataFrame:
    """How much the sign-split NMF reduction raises a layer's scores, by input channel count: i.i.d. noise and a
    weakly banded synthetic layer (each input channel a horizontal band plus twice as much noise) scored raw (W)
    and after NMF (the book's reduction), at this book's 5b width and at the article's 512."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for c in channels:
        noise = torch.randn(neurons, c, kernel, kernel, generator=g)
        band = torch.randn(neurons, c, kernel, 1, generator=g).expand(-1, -1, -1, kernel)
        for what, w in (("i.i.d. noise", noise), ("banded + noise", band + 2 * torch.randn(noise.shape, generator=g))):
            raw, nmf = metrics.score(w, n_boot=200), reduce.reduction(w).score
            rows.append({"layer": what, "in_channels": c, "W row": raw.row, "W col": raw.col, "NMF row": nmf.row,
                         "NMF col": nmf.col, "null": raw.null})
    return pd.DataFrame(rows)


def load_probes(profile: str, path=Path("probe.csv")) -> pd.DataFrame:
    """The position probe's table (`main` writes it beside the scores); MissingScores naming `make scores`."""
    path = Path(path)
    if not path.exists():
        raise MissingScores(f"no position-probe file {path.resolve()}: `make scores PROFILE={profile}`")
    frame = pd.read_csv(path)
    if set(frame.profile) != {profile}:
        raise MissingScores(f"{path} holds the probe of profile(s) {sorted(set(frame.profile))}: `make scores PROFILE={profile}`")
    return frame


def load_beside(name: str, profile: str, path=DEFAULT) -> pd.DataFrame:
    """A table the scores step writes beside the scores (`gradients.csv`, `nmf_null.csv`); MissingScores naming
    `make scores` when it is missing or (where it has a profile column) holds another profile's."""
    path = Path(path).with_name(name)
    if not path.exists():
        raise MissingScores(f"no {name} beside the scores ({path.resolve()}): `make scores PROFILE={profile}`")
    frame = pd.read_csv(path)
    if "profile" in frame and set(frame.profile) != {profile}:
        raise MissingScores(f"{path} holds profile(s) {sorted(set(frame.profile))}: `make scores PROFILE={profile}`")
    return frame
