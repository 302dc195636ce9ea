"""The verdict: each claim of the article, figure by figure, beside this book's number and a grade.

CLAIMS is the table: the figure, what the article claims, the run and layer it is about, how it is graded
(a claim of article.grade), and for a comparison the run and layer compared with. `table(runs)` grades every
claim from the NMF pictures of every seed of its run (tables.scores_frame, the numbers the pages show), so the
verdict page and each page's own grade line (`line`) cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import article, config, tables


@dataclass(frozen=True)
class Claim:
    figure: str  # "5", "9", or "text" for a claim the article makes in words only
    says: str  # the article's claim, in a few words
    run: str  # preset
    layer: str
    grade: str | None  # a claim of article.grade; None: not graded (see says)
    ref: tuple[str, str] | None = None  # (run, layer) a comparison is made with


_PERSISTING = ("masks3", "masks5", "masks16", "mask_full", "attention", "coordconv", "groups", "maxpool_fc")
_ARCH_LAYERS = {"googlenet": ("9", "inception5b.branch3.1"), "resnet50": ("10", "layer4.2.conv2"),
                "vgg19": ("11", "features.34")}

CLAIMS = [
    Claim("5", "the baseline's 5b is fully banded", "baseline", "block5.b", "banded"),
    Claim("5", "the baseline's 5a is mostly banded", "baseline", "block5.a", "still banded"),
    Claim("6", "inputs rotated 90°: 5b's bands turn vertical", "rotated", "block5.b", "vertical"),
    Claim("7", "no global average pooling: 5b is not banded (row/col at most half the baseline's, seeds apart)",
          "flatten", "block5.b", "halved", ("baseline", "block5.b")),
    Claim("7", "no global average pooling: 5a stays banded (reported; figure 7 is graded on 5b)", "flatten",
          "block5.a", None),
    Claim("8", "pooling along x only: 5a is banded", "x_pool", "block5.a", "still banded"),
    Claim("8", "pooling along x only: 5b less banded than 5a", "x_pool", "block5.b", "less banded", ("x_pool", "block5.a")),
    *[Claim("text", f"5b stays banded: {config.RUNS[p]['about']}", p, "block5.b", "still banded") for p in _PERSISTING],
    *[c for arch, (fig, layer) in _ARCH_LAYERS.items() for c in (
        Claim(fig, f"{arch} retrained: banded", f"{arch}_baseline", layer, "leans banded"),
        Claim(fig, f"{arch} retrained on rotated inputs: vertical bands", f"{arch}_rotated", layer, "leans vertical"),
        Claim(fig, f"{arch} without global pooling: banding weakened", f"{arch}_flatten", layer, "less banded",
              (f"{arch}_baseline", layer)) if arch != "vgg19" else
        Claim(fig, "vgg19 without global pooling: still banded (the authors suspect a bug in that run)",
              "vgg19_flatten", layer, None))],
]
RUNS = tuple(dict.fromkeys(c.run for c in CLAIMS))  # every run the verdict needs


def scores(runs: dict) -> pd.DataFrame:
    """Mean NMF row / col over the seeds of each (run, layer) a claim needs, with the seeds' range and mean
    val. accuracy: one row per (preset, layer). runs: {(preset, seed): results.Run} (runner.load)."""
    layers = sorted({c.layer for c in CLAIMS} | {c.ref[1] for c in CLAIMS if c.ref})
    frame = pd.concat([tables.scores_frame([r], layers, kinds=("NMF",), article=False)
                       .assign(val_top1=r.metrics["final"]["val_top1"],
                               learned=article.learned(r.metrics["final"]["val_top1"], r.metrics["num_classes"]))
                       for r in runs.values()], ignore_index=True)
    frame["ratio"] = frame.row / frame.col.clip(lower=1e-6)
    return frame.groupby(["preset", "layer"]).agg(
        row=("row", "mean"), col=("col", "mean"), row_min=("row", "min"), row_max=("row", "max"),
        col_min=("col", "min"), col_max=("col", "max"), seeds=("row", "size"), val_top1=("val_top1", "mean"),
        learned=("learned", "all"), ratios=("ratio", tuple), rows=("row", tuple), cols=("col", tuple))


def grade(claim: Claim, means: pd.DataFrame) -> str:
    """One of article.GRADES, or 'not graded', for one claim, from scores(...): 'inconclusive' when a seed of
    its run (or of the run it is compared with) did not learn (article.learned); "halved" is figure 7's rule
    on the seeds' row/col ratios (article.halved); every other claim article.grade of the seeds' mean."""
    if claim.grade is None:
        return "not graded"
    s = means.loc[(claim.run, claim.layer)]
    ref = means.loc[claim.ref] if claim.ref else None
    if not s.learned or (ref is not None and not ref.learned):
        return "inconclusive"
    if claim.grade == "halved":
        return article.halved(s.ratios, ref.ratios)
    return article.grade(claim.grade, s.row, s.col, None if ref is None else (ref.row, ref.col))


def agreeing(claim: Claim, means: pd.DataFrame) -> str:
    """How stable a grade is: of the run's seeds, how many alone get the grade the seeds' mean gets ("3 / 3").
    A grade every seed agrees with survives a rebuild on another machine better than one that rests on the mean."""
    s = means.loc[(claim.run, claim.layer)]
    if claim.grade is None or s.seeds < 2:
        return "—"
    overall = grade(claim, means)
    same = sum(grade(claim, _one_seed(means, (claim.run, claim.layer), i)) == overall for i in range(int(s.seeds)))
    return f"{same} / {int(s.seeds)}"


def _one_seed(means: pd.DataFrame, key, i: int) -> pd.DataFrame:
    """`means` with the row of `key` replaced by its i-th seed alone."""
    out = means.copy()
    s = out.loc[key]
    out.loc[[key], ["row", "col"]] = [[s.rows[i], s.cols[i]]]
    out.at[key, "ratios"] = (s.ratios[i],)
    return out


def table(runs: dict) -> pd.DataFrame:
    """The verdict, one row per claim whose runs are in `runs`: figure, the article's claim, run and layer, the
    article's number (its published pictures, where it drew them), ours (mean over seeds, with their range),
    val. accuracy, grade."""
    means = scores(runs)
    rows = []
    for c in CLAIMS:
        if (c.run, c.layer) not in means.index or (c.ref and c.ref not in means.index):
            continue
        s = means.loc[(c.run, c.layer)]
        art = article.ARTICLE_SHARES.get((c.run, c.layer))
        rows.append({"figure": c.figure, "the article": c.says, "run, layer": f"{c.run}, {c.layer}",
                     "article row / col": f"{art[0]:.2f} / {art[1]:.2f}" if art else "in words",
                     "ours row / col": f"{s.row:.2f} / {s.col:.2f}", "seeds": int(s.seeds),
                     "rows, seed range": f"{s.row_min:.2f}–{s.row_max:.2f}" if s.seeds > 1 else "—",
                     "val. acc.": round(float(s.val_top1), 2), "grade": grade(c, means),
                     "seeds agreeing": agreeing(c, means)})
    return pd.DataFrame(rows)


def grade_of(verdicts: pd.DataFrame, run: str, layer: str) -> str:
    """The grade table(...) gave the claim about `layer` of `run` (KeyError if there is none)."""
    match = verdicts.grade[verdicts["run, layer"] == f"{run}, {layer}"]
    if match.empty:
        raise KeyError(f"no claim about {run}, {layer} in this verdict table; claims: {list(verdicts['run, layer'])}")
    return match.iloc[0]


def line(verdicts: pd.DataFrame, figure: str) -> str:
    """One line for a page: 'Figure 6: reproduced (1 of 1 claims reproduced)' from table(...)."""
    f = verdicts[verdicts.figure == figure]
    graded = f[f.grade != "not graded"]
    counts = graded.grade.value_counts()
    overall = next((g for g in ("reproduced", "not reproduced", "inconclusive") if counts.get(g, 0) == len(graded)),
                   "partly reproduced")
    others = [f"{counts[g]} {g}" for g in ("partly", "inconclusive") if counts.get(g, 0)]
    return (f"Figure {figure}: {overall} ({counts.get('reproduced', 0)} of {len(graded)} claims reproduced"
            + "".join(f", {o}" for o in others) + ")")


def lines(verdicts: pd.DataFrame) -> str:
    """A page's verdict: one line per figure of `verdicts`, as Markdown."""
    figures = [f for f in dict.fromkeys(verdicts.figure) if f != "text"]
    return "**Verdict** (every claim: [the verdict page](00_verdict)): " + "; ".join(line(verdicts, f) for f in figures) + "."


def summary(verdicts: pd.DataFrame) -> str:
    """The verdict page's opening paragraph, in words, from table(...): which claims reproduced, which partly,
    which did not, and which cannot be tested here (inconclusive: a run that did not learn)."""
    graded = verdicts[verdicts.grade != "not graded"]
    parts = []
    for grade, words in (("reproduced", "Reproduced"), ("partly", "Partly reproduced"),
                         ("not reproduced", "Not reproduced"), ("inconclusive", "Cannot be tested here (a run did not learn)")):
        says = graded[graded.grade == grade]
        if len(says):
            items = "; ".join(f"{c} (figure {f})" if f != "text" else c for f, c in zip(says.figure, says["the article"]))
            parts.append(f"**{words}** ({len(says)} of {len(graded)}): {items}.")
    return " ".join(parts)


def noise(runs: dict, twin, layer: str = "block5.b") -> str:
    """How far floating-point noise alone moves a score, beside the seeds' spread, in one sentence: `twin` is
    the baseline's seed 0 trained again with another thread count (config.STUDY's "floating-point noise" point:
    the same config, only the order of floating-point sums differs); runs holds the baseline's seeds."""
    nmf = lambda r: tables.scores_frame([r], [layer], kinds=("NMF",), article=False).iloc[0]
    one, two = nmf(runs["baseline", 0]), nmf(twin)
    seeds = [nmf(r) for (p, _), r in runs.items() if p == "baseline"]
    rows = [s.row for s in seeds]
    return (f"Floating-point noise: the baseline's seed 0 trained again on {twin.config['train']['threads']} threads "
            f"(the same config; only the order of floating-point sums differs) scores {layer} {two.row:.2f} / "
            f"{two.col:.2f} against {one.row:.2f} / {one.col:.2f}, a move of {abs(two.row - one.row):.2f} in row "
            f"share, beside a range of {max(rows) - min(rows):.2f} over {len(rows)} seeds "
            f"({min(rows):.2f}–{max(rows):.2f}). A grade that every seed agrees with is the one a rebuild on "
            "another machine is most likely to repeat.")
