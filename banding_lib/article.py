"""The article's numbers, for the book to put beside ours (what it reports in words: config.RUNS[...]["article"]).

Row / column shares measured on the per-neuron pictures published with the article (see ARTICLE.md of
this project's shared notes: "A number for banded: the paper's own figures, measured"), keyed by
(run, layer) in this package's names. These are pictures of 224-pixel ImageNet models.
"""

ARTICLE_SHARES = {
    ("baseline", "block5.b"): (0.96, 0.03),
    ("rotated", "block5.b"): (0.03, 0.96),
    ("flatten", "block5.b"): (0.48, 0.39),
    ("x_pool", "block5.a"): (0.91, 0.06),
    ("x_pool", "block5.b"): (0.65, 0.31),
    ("googlenet_pretrained", "inception5b.branch3.1"): (0.95, 0.03),
    ("googlenet_baseline", "inception5b.branch3.1"): (0.75, 0.19),
    ("googlenet_rotated", "inception5b.branch3.1"): (0.19, 0.73),
    ("googlenet_flatten", "inception5b.branch3.1"): (0.54, 0.27),
    ("resnet50_baseline", "layer4.2.conv2"): (0.91, 0.08),
    ("resnet50_rotated", "layer4.2.conv2"): (0.09, 0.90),
    ("resnet50_flatten", "layer4.2.conv2"): (0.72, 0.22),
    ("vgg19_baseline", "features.34"): (0.84, 0.13),
    ("vgg19_rotated", "features.34"): (0.12, 0.86),
    ("vgg19_flatten", "features.34"): (0.84, 0.14),
    ("alexnet_pretrained", "features.10"): (0.57, 0.28),
}

BANDED = (0.75, 3.5)  # the article's "banded": row share >= 0.75 and >= 3.5 x the column share
LEANS = (0.6, 2.0)  # a retrained architecture "leans banded": row share >= 0.6 and >= 2 x the column share


def verdict(row: float, col: float) -> str:
    """The article's own figures, read as thresholds: "banded" = row >= 0.75 and row/col >= 3.5,
    "vertical bands" the mirror image, "not banded" = row/col <= 2 and col/row <= 2, else "weakly banded"
    or "weakly vertical". The ratio follows, so a lean inside "not banded" still shows."""
    ratio = f"row/col {row / col:.1f}" if col > 0 else "col 0"
    if row >= BANDED[0] and row >= BANDED[1] * col:
        label = "banded"
    elif col >= BANDED[0] and col >= BANDED[1] * row:
        label = "vertical bands"
    elif row <= 2 * col and col <= 2 * row:
        label = "not banded"
    else:
        label = "weakly banded" if row > col else "weakly vertical"
    return f"{label}, {ratio}"


# The book's targets for "reproduced" (row, col shares of the NMF pictures of one layer, mean over seeds).
STRONG = (0.85, 0.12)  # the baseline's 5b: row >= 0.85 and col <= 0.12 (the article's pictures: 0.96 / 0.03)
HALVED = 0.5  # figure 7: the no-GAP 5b's row/col ratio at most this times the baseline's (article: 1.2 vs 32)
LEARNED = 2.0  # a run learned when its val. top-1 >= this x chance; a claim on a run that did not is inconclusive
GRADES = ("reproduced", "partly", "not reproduced", "inconclusive")


def learned(val_top1: float, num_classes: int) -> bool:
    """True when a network learned enough for its bands to say anything: val. top-1 >= LEARNED x chance."""
    return val_top1 >= LEARNED / num_classes


def halved(ratios: tuple, ref_ratios: tuple) -> str:
    """Figure 7's rule on the row/col ratios of every seed of the run and of the run it is compared with
    (the baseline): 'reproduced' when the mean ratio is at most HALVED x the reference's and the seeds'
    ranges are apart (every seed below every reference seed); 'partly' when the mean is lower but not both;
    else 'not reproduced'."""
    mean, ref_mean = sum(ratios) / len(ratios), sum(ref_ratios) / len(ref_ratios)
    if mean <= HALVED * ref_mean and max(ratios) < min(ref_ratios):
        return "reproduced"
    return "partly" if mean < ref_mean else "not reproduced"


def grade(claim: str, row: float, col: float, ref: tuple[float, float] | None = None) -> str:
    """'reproduced', 'partly' or 'not reproduced' for one claim of the article about a layer scored (row, col):
    "banded": row >= 0.85 and col <= 0.12 reproduces, the verdict "banded" (row >= 0.75, row/col >= 3.5) is partly;
    "vertical": the mirror image; "still banded": verdict "banded" reproduces, "weakly banded" partly;
    "not banded": row/col <= 2 and below the ratio of `ref` (the baseline's (row, col)) reproduces, a ratio
    below ref's partly; "less banded": row/col below ref's (the banded layer the claim compares with);
    "leans banded" (the retrained architectures, whose own pictures in the article score 0.75-0.91 on rows):
    row >= 0.6 and row >= 2 col reproduces, row >= 2 col alone partly; "leans vertical": the mirror image."""
    ratio = row / col if col > 0 else float("inf")
    label = verdict(row, col).split(",")[0]
    if claim == "banded":
        return "reproduced" if row >= STRONG[0] and col <= STRONG[1] else "partly" if label == "banded" else "not reproduced"
    if claim == "vertical":
        return grade("banded", col, row)
    if claim == "leans banded":
        leans = row >= LEANS[1] * col
        return "reproduced" if leans and row >= LEANS[0] else "partly" if leans else "not reproduced"
    if claim == "leans vertical":
        return grade("leans banded", col, row)
    if claim == "still banded":
        return "reproduced" if label == "banded" else "partly" if label == "weakly banded" else "not reproduced"
    ref_ratio = ref[0] / ref[1] if ref else float("inf")
    if claim == "not banded":
        return "reproduced" if ratio <= 2 and ratio < ref_ratio else "partly" if ratio < ref_ratio else "not reproduced"
    if claim == "less banded":
        return "reproduced" if ratio < ref_ratio else "not reproduced"
    raise ValueError(f"unknown claim {claim!r}; use banded, vertical, still banded, not banded, less banded, "
                     "leans banded or leans vertical")
