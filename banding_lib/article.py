"""The article's claims in one table, and the rules that grade them.

CLAIMS: one row per claim the article makes about a network: the figure, the claim in a few words, the run and
layer it is about, the article's own number (the row / column share of its published pictures, measured as
in ARTICLE.md of this project's shared notes: "A number for banded: the paper's own figures, measured") and
the rule that grades it (a Rule; None: reported, not graded). Everything else derives from it: the
article's numbers (`article_shares`), what the article found for a run (`found`), the grading key in words
(`grading_key`), and the verdict (banding_lib.verdict).

The rules read the scores of every seed of a run (and of the run a comparison is made with) as `Seeds`: the
mean row and column share and each seed's row / col ratio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

from . import config
from .layers import ARTICLE

BANDED = (0.75, 3.5)  # the article's pictures read in absolute terms (ARTICLE.md): row >= 0.75 and >= 3.5 x column
# The grading rules (fixed before the runs they grade; tests/test_article.py runs them on the article's own panels).
# Every rule reads a layer's row / column ratio seed by seed (the seed is the unit) and compares it with a cut or
# with this book's own controls (the baseline, the no-GAP net):
BANDED_RATIO = 2.5  # banded: row / column >= this on a seed. The article's panels it calls not banded (no GAP, x-pool
#                     5b, AlexNet conv5, InceptionV1 without pooling) score 1.2-2.2; those it calls banded 4.3-38
HALVED = 0.5  # figure 7: no GAP leaves each seed's ratio at most this x the baseline's (geometric mean over seeds)
LEARNED = 2.0  # a run learned when its val. top-1 >= this x chance; a claim on a run that did not is inconclusive
LEARNED_TORCHVISION = 0.60  # ... and a retrained torchvision net at val. top-1 >= this (the learning issue's target)
SYMMETRY_MARGIN = 0.1  # pictures are "clearly symmetric" when their mirror share exceeds i.i.d. noise's by this
GRADES = ("reproduced", "at threshold", "not reproduced", "inconclusive")


def learned(val_top1: float, num_classes: int, arch: str = "simplified") -> bool:
    """True when a network learned enough for its bands to say anything: val. top-1 >= LEARNED x chance, and for
    a retrained torchvision architecture also >= LEARNED_TORCHVISION (the learning issue's target for them)."""
    return val_top1 >= LEARNED / num_classes and (arch == "simplified" or val_top1 >= LEARNED_TORCHVISION)


def label(row: float, col: float) -> str:
    """The article's own figures read as absolute thresholds (the old grade, kept in its own column): "banded" =
    row >= 0.75 and row/col >= 3.5, "vertical bands" the mirror image, "not banded" = row/col <= 2 and col/row
    <= 2, else "weakly banded" / "weakly vertical"."""
    if row >= BANDED[0] and row >= BANDED[1] * col:
        return "banded"
    if col >= BANDED[0] and col >= BANDED[1] * row:
        return "vertical bands"
    if row <= 2 * col and col <= 2 * row:
        return "not banded"
    return "weakly banded" if row > col else "weakly vertical"


def verdict(row: float, col: float) -> str:
    """label(row, col) with the ratio, so that a lean inside "not banded" still shows: "banded, row/col 9.1"."""
    return f"{label(row, col)}, " + (f"row/col {row / col:.1f}" if col > 0 else "col 0")


class Seeds(NamedTuple):
    """What a rule reads of one (run, layer): each seed's row and column share."""

    rows: tuple
    cols: tuple

    @property
    def logs(self) -> tuple:
        """Each seed's log row / column ratio (0: as much row as column structure, i.i.d. noise)."""
        return tuple(math.log(max(r, 1e-9) / max(c, 1e-9)) for r, c in zip(self.rows, self.cols))

    @property
    def log_mean(self) -> float:
        return sum(self.logs) / len(self.logs)

    @property
    def ratio(self) -> float:
        """The seeds' geometric mean row / column ratio."""
        return math.exp(self.log_mean)

    def mirrored(self) -> "Seeds":
        return Seeds(self.cols, self.rows)

    def one(self, i: int) -> "Seeds":
        return Seeds((self.rows[i],), (self.cols[i],))


def split(passes, apart: bool = True) -> str:
    """One definition everywhere: "reproduced" when every seed passes (and, for a contrast, the seeds of the two
    runs lie apart), "at threshold" when the seeds fall on both sides of the cut (or all pass but overlap the
    control's), "not reproduced" when none passes."""
    passes = list(passes)
    if all(passes):
        return "reproduced" if apart else "at threshold"
    return "at threshold" if any(passes) else "not reproduced"


@dataclass(frozen=True)
class Rule:
    """How a claim is graded: `passes(seeds, refs)` -> one bool per seed of the run (refs: the Seeds of the runs
    it is compared with, in the claim's order); `apart(seeds, refs)`: whether the seeds lie apart from the
    control's (contrasts only); `words`: the rule as the verdict page states it."""

    name: str
    words: str
    passes: Callable[[Seeds, tuple], list]
    apart: Callable[[Seeds, tuple], bool] = lambda s, refs: True

    def grade(self, seeds: Seeds, refs: tuple = ()) -> str:
        return split(self.passes(seeds, refs), self.apart(seeds, refs))


_CUT = math.log(BANDED_RATIO)
BANDED_RULE = Rule("banded", f"row / column ratio ≥ {BANDED_RATIO:g} on every seed (the article's panels it calls "
                   "not banded score 1.2–2.2, those it calls banded 4.3–38)",
                   lambda s, refs: [v >= _CUT for v in s.logs])
VERTICAL = Rule("vertical bands", f"the mirror image of *banded*: column / row ratio ≥ {BANDED_RATIO:g} on every seed",
                lambda s, refs: [v >= _CUT for v in s.mirrored().logs])
HALVED_RULE = Rule("halved", f"every seed's row / column ratio at most {HALVED:g} x the control's (the baseline's "
                   "geometric mean over seeds), and every seed's ratio below every seed of the control",
                   lambda s, refs: [v <= refs[0].log_mean + math.log(HALVED) for v in s.logs],
                   lambda s, refs: max(s.logs) < min(refs[0].logs))
WEAKENED = Rule("weakened", "every seed's row / column ratio below the control's (geometric mean over seeds), and "
                "every seed below every seed of the control",
                lambda s, refs: [v < refs[0].log_mean for v in s.logs],
                lambda s, refs: max(s.logs) < min(refs[0].logs))
STILL_BANDED = Rule("still banded", "not weakened the way removing GAP weakens it: every seed's row / column ratio "
                    "nearer the baseline's than the no-GAP net's (above their geometric midpoint)",
                    lambda s, refs: [v >= (refs[0].log_mean + refs[1].log_mean) / 2 for v in s.logs])


@dataclass(frozen=True)
class Claim:
    figure: str  # "5", "9", or "text" for a claim the article makes in words only
    says: str  # the article's claim, in a few words
    run: str  # preset (config.RUNS), or a pretrained model ("googlenet_pretrained")
    layer: str
    article: tuple[float, float] | None  # row / col share of the article's published pictures of that layer
    rule: Rule | None  # None: reported, not graded
    refs: tuple = ()  # the (run, layer)s the claim is a contrast with, in the rule's order

    @property
    def ref(self) -> tuple[str, str] | None:
        """The first control the claim is compared with (the one pictured beside it), or None."""
        return self.refs[0] if self.refs else None


PERSISTING = ("masks3", "masks5", "masks16", "mask_full", "attention", "coordconv", "groups", "maxpool_fc")
# (figure, layer) of each architecture the article retrained (layers.ARTICLE)
ARCH_LAYERS = {arch: (layer.figure, layer.path) for arch, layer in ARTICLE.items() if layer.figure}
_ARCH_SHARES = {  # the article's pictures of each retrained architecture's layer: baseline, rotated, flatten
    "googlenet": ((0.75, 0.19), (0.19, 0.73), (0.54, 0.27)),
    "resnet50": ((0.91, 0.08), (0.09, 0.90), (0.72, 0.22)),
    "vgg19": ((0.84, 0.13), (0.12, 0.86), (0.84, 0.14)),
}
BASE, NO_GAP = ("baseline", "block5.b"), ("flatten", "block5.b")  # the simplified net's two controls


def _arch_claims(arch: str) -> list[Claim]:
    (fig, layer), (base, rot, flat) = ARCH_LAYERS[arch], _ARCH_SHARES[arch]
    flatten = (Claim(fig, f"{arch} without global pooling: banding weakened", f"{arch}_flatten", layer, flat,
                     WEAKENED, ((f"{arch}_baseline", layer),)) if arch != "vgg19" else
               Claim(fig, "vgg19 without global pooling: still banded (the authors suspect a bug in that run)",
                     "vgg19_flatten", layer, flat, None))
    return [Claim(fig, f"{arch} retrained: banded", f"{arch}_baseline", layer, base, BANDED_RULE),
            Claim(fig, f"{arch} retrained on rotated inputs: vertical bands", f"{arch}_rotated", layer, rot, VERTICAL),
            flatten]


CLAIMS = [
    Claim("1", "pretrained InceptionV1: mixed5b is banded", "googlenet_pretrained", ARTICLE["googlenet"].panel,
          (0.95, 0.03), None),
    Claim("3", "pretrained AlexNet: conv5 is not banded", "alexnet_pretrained", ARTICLE["alexnet"].panel, (0.57, 0.28),
          None),
    Claim("5", "the baseline's 5b is fully banded", "baseline", "block5.b", (0.96, 0.03), BANDED_RULE),
    Claim("5", "the baseline's 5a is mostly banded", "baseline", "block5.a", None, BANDED_RULE),
    Claim("6", "inputs rotated 90°: 5b's bands turn vertical", "rotated", "block5.b", (0.03, 0.96), VERTICAL),
    Claim("7", "no global average pooling: 5b is not banded (row/col at most half the baseline's, seeds apart)",
          "flatten", "block5.b", (0.48, 0.39), HALVED_RULE, (BASE,)),
    Claim("7", "no global average pooling: 5a stays banded (reported; figure 7 is graded on 5b)", "flatten",
          "block5.a", None, None),
    Claim("8", "pooling along x only: 5a is banded", "x_pool", "block5.a", (0.91, 0.06), BANDED_RULE),
    Claim("8", "pooling along x only: 5b less banded than 5a", "x_pool", "block5.b", (0.65, 0.31), WEAKENED,
          (("x_pool", "block5.a"),)),
    *[Claim("text", f"5b stays banded: {config.RUNS[p]['about']}", p, "block5.b", None, STILL_BANDED, (BASE, NO_GAP))
      for p in PERSISTING],
    *[c for arch in ARCH_LAYERS for c in _arch_claims(arch)],
]
GRADED = tuple(c for c in CLAIMS if c.rule is not None and c.run in config.RUNS)  # what the verdict grades
CONTRASTS = (HALVED_RULE, WEAKENED)  # rules that compare a run with a control (strength: the contrast's size)


def strength(claim: Claim, s: Seeds, refs: tuple, null: float) -> float | None:
    """How strong our effect is against the article's, apart from its direction (None where the article drew no
    panel of the claim's layer): for a contrast (figure 7, x-pool, no pooling), our mean log row / column contrast
    with the control (refs[0]) as a share of the article's; else (ours - noise) / (article - noise) of the row
    share (the column share for vertical bands), ours the seeds' mean and noise the i.i.d. share `null`."""
    if claim.article is None:
        return None
    if claim.rule in CONTRASTS:
        theirs = article_shares().get(claim.ref)
        if theirs is None:
            return None
        art = math.log(theirs[0] / theirs[1]) - math.log(claim.article[0] / claim.article[1])
        return (refs[0].log_mean - s.log_mean) / art
    ours, art = (s.cols, claim.article[1]) if claim.rule is VERTICAL else (s.rows, claim.article[0])
    return (sum(ours) / len(ours) - null) / (art - null)


def article_shares() -> dict:
    """{(run, layer): (row, col)} of the article's published pictures, from CLAIMS."""
    return {(c.run, c.layer): c.article for c in CLAIMS if c.article}


def found(preset: str) -> str:
    """What the article found for a run, in words (with its pictures' numbers), from CLAIMS; the follow-ups
    it proposed and never ran say so."""
    claims = [c for c in CLAIMS if c.run == preset]
    if not claims:
        return "never run (a follow-up the article proposed)" if preset in config.FOLLOW_UPS else "—"
    return "; ".join(c.says + (f" ({c.article[0]:.2f} / {c.article[1]:.2f})" if c.article else "") for c in claims)


def grading_key() -> str:
    """The rules of every graded claim, in words, one Markdown bullet each (the verdict page's key)."""
    rules = dict.fromkeys(c.rule for c in GRADED)
    return "\n".join(f"- *{r.name}*: {r.words}." for r in rules)


# --- position or content (the Generality issue): the reading of one photo set's controls, fixed before its runs ---
# A vertical flip (half the photos upside down) removes the vertical position cue and keeps horizontal edges
# horizontal; removing GAP gives the classifier position without bands. Banding that keeps position falls under both;
# banding that follows the photos' content (horizons, shores) survives both. Random rotation removes both (reported).
READINGS = ("position", "content", "mixed", "at threshold", "inconclusive")


def position_or_content(base: Seeds, no_gap: Seeds, vflip: Seeds) -> tuple[str, dict]:
    """One photo set's reading, from 5b's seeds of its baseline, its no-GAP net and its vertical-flip net:
    "position" when removing GAP halves the banding (HALVED_RULE) and a vertical flip weakens it (WEAKENED), both
    reproduced; "content" when neither does (both not reproduced); "at threshold" when either grade is; else
    "mixed" (one control weakens it, the other does not). Also returns the two grades."""
    grades = {"no GAP halves it": HALVED_RULE.grade(no_gap, (base,)), "vflip weakens it": WEAKENED.grade(vflip, (base,))}
    values = set(grades.values())
    if values == {"reproduced"}:
        return "position", grades
    if values == {"not reproduced"}:
        return "content", grades
    return ("at threshold" if "at threshold" in values else "mixed"), grades
