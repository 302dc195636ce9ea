"""One run's rows of the scores table, computed from its saved weights, without pandas: the scores step
(banding_lib.scores) writes them for every run the book shows, and benchmarks/gpu_science.py on a GPU machine that
may lack pandas. W (raw weight) and dW (minus its initialization) of every tracked layer, and for the layers the
pages draw (DRAWN) the NMF score of their reduced pictures (reduce.reduction) with its left-right symmetry."""
from __future__ import annotations

import numpy as np

from . import article, metrics, reduce, results
from .layers import ARTICLE

COLUMNS = ["profile", "preset", "seed", "folder", "layer", "kind", "row", "col", "row_lo", "row_hi", "col_lo",
           "col_hi", "null", "mirror", "val_top1", "num_classes", "learned", "steps", "train_min",
           "train_flops_per_image", "precision", "cpu", "book", "study"]
SCORE_FIELDS = ("row", "col", "row_lo", "row_hi", "col_lo", "col_hi", "null")
# the layers whose pictures the pages draw and score (NMF); every tracked layer gets its W and dW rows
DRAWN = ("block5.a", "block5.b", *(path for arch in article.ARCH_LAYERS for path in ARTICLE[arch].drawn))


def run_rows(run: results.Run) -> list[dict]:
    """The rows of one finished run, every score computed here from its saved weights (a change to the metric
    reaches every run with `make scores`, no retraining): W (raw weight) and dW (minus its initialization) of
    every tracked layer, and the NMF score of the drawn ones."""
    m, final = run.metrics, run.metrics["final"]
    base = {"profile": run.config["profile"], "preset": run.name, "seed": run.config["seed"], "folder": run.path.name,
            "val_top1": final["val_top1"], "num_classes": m["num_classes"],
            "learned": article.learned(final["val_top1"], m["num_classes"], run.config.get("arch", "simplified")), "steps": m["steps"],
            "train_min": m["wall_s"] / 60, "train_flops_per_image": m.get("train_flops_per_image", np.nan),
            "precision": run.config.get("train", {}).get("precision", ""), "cpu": cpu_words(m.get("provenance", {}))}
    rows = []
    for layer in run.weights:
        for kind, score in (("W", metrics.score(run.weights[layer])),
                            ("dW", metrics.score(run.weights[layer], run.init[layer]))):
            rows.append({**base, "layer": layer, "kind": kind, **fields(score)})
        if layer in DRAWN:
            red = reduce.reduction(run.weights[layer])
            rows.append({**base, "layer": layer, "kind": "NMF", **fields(red.score),
                         "mirror": float(np.nanmean(metrics.mirror_shares(red.kernels)))})
    return rows


def cpu_words(provenance: dict) -> str:
    """Where a run trained, from its provenance: "AMD EPYC (AVX512-BF16)", a GPU's name, or "" if unknown."""
    if provenance.get("device", "cpu") != "cpu":
        return provenance["device"]
    cpu = provenance.get("cpu", {})
    flags = [f.upper().replace("_", "-") for f in cpu.get("flags", []) if "bf16" in f]
    return cpu.get("model", "") + (f" ({', '.join(flags)})" if flags else "")


def fields(s: metrics.Score) -> dict:
    """The score columns of a row (SCORE_FIELDS) from a metrics.Score, as floats."""
    return {f: float(getattr(s, f)) for f in SCORE_FIELDS}
