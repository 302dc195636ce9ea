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

from dataclasses import dataclass
from typing import Callable, NamedTuple

from . import config

BANDED = (0.75, 3.5)  # the article's "banded": row share >= 0.75 and >= 3.5 x the column share
LEANS = (0.6, 2.0)  # a retrained architecture "leans banded": row share >= 0.6 and >= 2 x the column share
STRONG = (0.85, 0.12)  # "reproduced" for a fully banded layer: row >= 0.85 and col <= 0.12 (article: 0.96 / 0.03)
HALVED = 0.5  # figure 7: the no-GAP 5b's row/col ratio at most this times the baseline's (article: 1.2 vs 32)
LEARNED = 2.0  # a run learned when its val. top-1 >= this x chance; a claim on a run that did not is inconclusive
LEARNED_TORCHVISION = 0.60  # ... and a retrained torchvision net at val. top-1 >= this (the learning issue's target)
SYMMETRY_MARGIN = 0.1  # pictures are "clearly symmetric" when their mirror share exceeds i.i.d. noise's by this
GRADES = ("reproduced", "partly", "not reproduced", "inconclusive")


def learned(val_top1: float, num_classes: int, arch: str = "simplified") -> bool:
    """True when a network learned enough for its bands to say anything: val. top-1 >= LEARNED x chance, and for
    a retrained torchvision architecture also >= LEARNED_TORCHVISION (the learning issue's target for them)."""
    return val_top1 >= LEARNED / num_classes and (arch == "simplified" or val_top1 >= LEARNED_TORCHVISION)


def label(row: float, col: float) -> str:
    """The article's own figures read as thresholds: "banded" = row >= 0.75 and row/col >= 3.5, "vertical
    bands" the mirror image, "not banded" = row/col <= 2 and col/row <= 2, else "weakly banded" / "weakly vertical"."""
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
    """What a rule reads of one (run, layer): the mean row / col share over its seeds and each seed's ratio."""

    row: float
    col: float
    ratios: tuple

    @property
    def ratio(self) -> float:
        return self.row / self.col if self.col > 0 else float("inf")

    def mirrored(self) -> "Seeds":
        return Seeds(self.col, self.row, tuple(1 / r if r else float("inf") for r in self.ratios))


@dataclass(frozen=True)
class Rule:
    """How a claim is graded: `grade(seeds, ref)` -> "reproduced" / "partly" / "not reproduced" (ref: the
    Seeds of the run compared with, or None); `words`: the rule as the verdict page states it."""

    name: str
    words: str
    grade: Callable[[Seeds, Seeds | None], str]


def _banded(s: Seeds, ref=None) -> str:
    if s.row >= STRONG[0] and s.col <= STRONG[1]:
        return "reproduced"
    return "partly" if label(s.row, s.col) == "banded" else "not reproduced"


def _still_banded(s: Seeds, ref=None) -> str:
    return {"banded": "reproduced", "weakly banded": "partly"}.get(label(s.row, s.col), "not reproduced")


def _halved(s: Seeds, ref: Seeds) -> str:
    mean, ref_mean = sum(s.ratios) / len(s.ratios), sum(ref.ratios) / len(ref.ratios)
    if mean <= HALVED * ref_mean and max(s.ratios) < min(ref.ratios):
        return "reproduced"
    return "partly" if mean < ref_mean else "not reproduced"


def _leans(s: Seeds, ref=None) -> str:
    leans = s.row >= LEANS[1] * s.col
    return "reproduced" if leans and s.row >= LEANS[0] else "partly" if leans else "not reproduced"


BANDED_RULE = Rule("banded", f"reproduced at row ≥ {STRONG[0]} and column ≤ {STRONG[1]}; partly at the article's "
                   f"own reading of banded (row ≥ {BANDED[0]} and ≥ {BANDED[1]} x column)", _banded)
VERTICAL = Rule("vertical bands", "the mirror image of *banded*, columns for rows", lambda s, ref=None: _banded(s.mirrored()))
STILL_BANDED = Rule("still banded", f"reproduced at the article's reading of banded (row ≥ {BANDED[0]} and ≥ "
                    f"{BANDED[1]} x column), partly when only weakly banded (row above column, not both thresholds)",
                    _still_banded)
HALVED_RULE = Rule("halved", f"reproduced when 5b's mean row / column ratio is at most {HALVED:g} x the baseline's "
                   "and every seed's ratio lies below every baseline seed's; partly when it is only lower", _halved)
def _less_banded(s: Seeds, ref: Seeds) -> str:
    if ref.row < LEANS[1] * ref.col:  # the layer compared with is not banded: there is no banding to weaken
        return "not reproduced"
    return "reproduced" if s.ratio < ref.ratio else "not reproduced"


LESS_BANDED = Rule("less banded", "reproduced when the row / column ratio is below that of the layer compared with, "
                   f"and that layer leans banded (row ≥ {LEANS[1]:g} x column: else there is no banding to weaken)",
                   _less_banded)
LEANS_BANDED = Rule("leans banded", f"(retrained architectures) reproduced at row ≥ {LEANS[0]} and ≥ {LEANS[1]:g} x "
                    f"column; partly at ≥ {LEANS[1]:g} x column alone", _leans)
LEANS_VERTICAL = Rule("leans vertical", "the mirror image of *leans banded*", lambda s, ref=None: _leans(s.mirrored()))


@dataclass(frozen=True)
class Claim:
    figure: str  # "5", "9", or "text" for a claim the article makes in words only
    says: str  # the article's claim, in a few words
    run: str  # preset (config.RUNS), or a pretrained model ("googlenet_pretrained")
    layer: str
    article: tuple[float, float] | None  # row / col share of the article's published pictures of that layer
    rule: Rule | None  # None: reported, not graded
    ref: tuple[str, str] | None = None  # (run, layer) a comparison is made with


PERSISTING = ("masks3", "masks5", "masks16", "mask_full", "attention", "coordconv", "groups", "maxpool_fc")
ARCH_LAYERS = {"googlenet": ("9", "inception5b.branch3.1"), "resnet50": ("10", "layer4.2.conv2"),
               "vgg19": ("11", "features.34")}
_ARCH_SHARES = {  # the article's pictures of each retrained architecture's layer: baseline, rotated, flatten
    "googlenet": ((0.75, 0.19), (0.19, 0.73), (0.54, 0.27)),
    "resnet50": ((0.91, 0.08), (0.09, 0.90), (0.72, 0.22)),
    "vgg19": ((0.84, 0.13), (0.12, 0.86), (0.84, 0.14)),
}


def _arch_claims(arch: str) -> list[Claim]:
    (fig, layer), (base, rot, flat) = ARCH_LAYERS[arch], _ARCH_SHARES[arch]
    flatten = (Claim(fig, f"{arch} without global pooling: banding weakened", f"{arch}_flatten", layer, flat,
                     LESS_BANDED, (f"{arch}_baseline", layer)) if arch != "vgg19" else
               Claim(fig, "vgg19 without global pooling: still banded (the authors suspect a bug in that run)",
                     "vgg19_flatten", layer, flat, None))
    return [Claim(fig, f"{arch} retrained: banded", f"{arch}_baseline", layer, base, LEANS_BANDED),
            Claim(fig, f"{arch} retrained on rotated inputs: vertical bands", f"{arch}_rotated", layer, rot, LEANS_VERTICAL),
            flatten]


CLAIMS = [
    Claim("1", "pretrained InceptionV1: mixed5b is banded", "googlenet_pretrained", "inception5b.branch3.1",
          (0.95, 0.03), None),
    Claim("3", "pretrained AlexNet: conv5 is not banded", "alexnet_pretrained", "features.10", (0.57, 0.28), None),
    Claim("5", "the baseline's 5b is fully banded", "baseline", "block5.b", (0.96, 0.03), BANDED_RULE),
    Claim("5", "the baseline's 5a is mostly banded", "baseline", "block5.a", None, STILL_BANDED),
    Claim("6", "inputs rotated 90°: 5b's bands turn vertical", "rotated", "block5.b", (0.03, 0.96), VERTICAL),
    Claim("7", "no global average pooling: 5b is not banded (row/col at most half the baseline's, seeds apart)",
          "flatten", "block5.b", (0.48, 0.39), HALVED_RULE, ("baseline", "block5.b")),
    Claim("7", "no global average pooling: 5a stays banded (reported; figure 7 is graded on 5b)", "flatten",
          "block5.a", None, None),
    Claim("8", "pooling along x only: 5a is banded", "x_pool", "block5.a", (0.91, 0.06), STILL_BANDED),
    Claim("8", "pooling along x only: 5b less banded than 5a", "x_pool", "block5.b", (0.65, 0.31), LESS_BANDED,
          ("x_pool", "block5.a")),
    *[Claim("text", f"5b stays banded: {config.RUNS[p]['about']}", p, "block5.b", None, STILL_BANDED) for p in PERSISTING],
    *[c for arch in ARCH_LAYERS for c in _arch_claims(arch)],
]
GRADED = tuple(c for c in CLAIMS if c.rule is not None and c.run in config.RUNS)  # what the verdict grades


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
