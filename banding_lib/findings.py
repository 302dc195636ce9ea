"""The book's sentences: each page's findings, written from the scores step's table (banding_lib.scores) and
the verdict (banding_lib.verdict), so that a page says only what its numbers show. One function per finding;
each returns Markdown.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import article, config, metrics, scores, verdict
from .models import HEADS
from .tables import describe_scores


def profile_line(frame: pd.DataFrame, verdicts: pd.DataFrame, profile: str) -> str:
    """The verdict page's first line: the profile the book was built at (its depth, width, pixels, steps, photos),
    where and in which precision its runs trained (their provenance), and the count of each grade."""
    from .models import GROUPS

    cfg = config.resolve("baseline", profile, 0)
    t, m = cfg["train"], cfg["model"]
    runs = frame.drop_duplicates("folder")
    where = "; ".join(f"{len(g)} runs in {p} on {c or 'an unrecorded CPU'} ({g.train_min.sum():.0f} min of training)"
                      for (p, c), g in runs.groupby(["precision", "cpu"])) if "precision" in runs else ""
    counts = verdicts[verdicts.grade != "not graded"].grade.value_counts()
    length = f"{t['steps']} steps" if t["steps"] else f"{t['epochs']} epochs"
    blocks = m.get("blocks", [g for g, _, _ in GROUPS])
    convs = [f"{g[-1]}{letter}" for g, _, widths in GROUPS if g in blocks for letter in "abcde"[:len(widths)]]
    depth = f"{len(convs)} of its 12 conv layers ({', '.join(convs)})" if len(convs) < 12 else "all 12 conv layers"
    return (f"**Built at the `{profile}` profile**: {cfg['data']['dataset']}, {m['in_size']}-px inputs, the "
            f"simplified network with {depth} at width {m['width']:g}, {length} of batch {t['batch_size']} "
            f"(the article: ImageNet, 224 px, all 12 layers at full width, 90 epochs); trained "
            f"{where or 'in ' + t['precision']}. Of {int(counts.sum())} graded claims, "
            f"**{counts.get('reproduced', 0)} reproduced, {counts.get('at threshold', 0)} at threshold, "
            f"{counts.get('not reproduced', 0)} not reproduced, {counts.get('inconclusive', 0)} inconclusive**.")


def grading_key() -> str:
    """How to read the grades, in words, from the rules of article.CLAIMS."""
    return (f"**How to read the grades.** I.i.d. noise scores {metrics.null_share(5, 5):.2f} on rows and on columns "
            f"for 5x5 kernels ({metrics.null_share(3, 3):.2f} for 3x3). Each claim is graded by one rule:\n\n"
            f"{article.grading_key()}\n\nA claim whose run did not learn (val. top-1 below {article.LEARNED:g} x "
            f"chance on any seed; for a retrained torchvision network, below {article.LEARNED_TORCHVISION:.2f}) is "
            "*inconclusive*, never *not reproduced*. The seed is the unit: a claim is *reproduced* when every seed "
            "passes its rule (and, for a contrast, the seeds lie apart from the control's), *at threshold* when its "
            "seeds fall on both sides, *not reproduced* when none passes. The same rule is applied to the raw "
            "weights (W) beside the NMF pictures the article drew; a disagreement is flagged. *Strength* is reported "
            "apart from direction: (ours − noise) / (article − noise) of the row share (the column share for vertical "
            "bands), or for a contrast our log row / column contrast with the control as a share of the article's. "
            "The rules, their cuts and their tests (the article's own panels, knife-edge cases, negative controls) "
            "were committed before the runs they grade.")


def said(preset: str, layer: str) -> str:
    """What the article says of a run's layer: its pictures' numbers where it drew them, else its words."""
    art = article.article_shares().get((preset, layer))
    if art:
        return f"article {art[0]:.2f} / {art[1]:.2f}"
    says = [c.says for c in article.CLAIMS if (c.run, c.layer) == (preset, layer)]
    return "article: " + ("; ".join(says) if says else article.found(preset))


def layer_line(frame: pd.DataFrame, verdicts: pd.DataFrame, preset: str, layer: str = "block5.b",
               figure: str | None = None) -> str:
    """One line from the NMF scores of every seed of `preset` at `layer`, beside the article's; with `figure`,
    led by the verdict's grade of the article's claim about that layer."""
    s = scores.seed_mean(frame, preset, layer)
    head = ""
    if figure:
        claim = verdicts[verdicts["run, layer"] == f"{preset}, {layer}"]["the article"].iloc[0]
        head = f"**{figure} ({claim}): {verdict.grade_of(verdicts, preset, layer)}.** "
    tail = "" if head and not article.article_shares().get((preset, layer)) else f" ({said(preset, layer)})"  # the head said it
    return f"{head}`{preset}` {layer}: {describe_scores(s)}, {ratio(s.row, s.col)}{tail}"


def ratio(row: float, col: float) -> str:
    """'row/col 9.1': the lean a layer's grade is read from, as a number (the one grade wording is the claim's)."""
    return f"row/col {row / col:.1f}" if col > 0 else "col 0"


def vertical_neurons(reductions: dict) -> str:
    """How many neurons of each layer lean vertical (column share above row share), from the pictures of
    {label: reduce.Reduction}: what a grid of mostly horizontal bands with a few vertical ones shows."""
    parts = []
    for label, red in reductions.items():
        rows, cols = red.shares()
        n = int((cols > rows).sum())
        parts.append(f"{label} {n} of {len(rows)} ({100 * n / len(rows):.0f} %)")
    return "Neurons whose pictures lean vertical (column share above row share): " + ", ".join(parts) + "."


def baseline(frame: pd.DataFrame, layer: str = "block5.b") -> str:
    """Figure 5's finding: the baseline's layer over its seeds, against noise and the article's pictures."""
    s = scores.seed_mean(frame, "baseline", layer)
    art = article.article_shares()["baseline", layer]
    accs = scores.of(frame, "baseline", layer).val_top1
    return (f"**Finding.** Over {s.seeds} seeds the baseline's {layer} pictures score row share {s.row:.2f} and column "
            f"share {s.col:.2f} (i.i.d. noise: {s['null']:.2f} each; seeds range {s.row_min:.2f}–{s.row_max:.2f} on "
            f"rows). By the article's own thresholds that reads as *{article.verdict(s.row, s.col)}*; the article's "
            f"224-px ImageNet model scores {art[0]:.2f} / {art[1]:.2f} on its published pictures, so this run is "
            f"{abs(art[0] - s.row):.2f} {'lower' if art[0] >= s.row else 'higher'} on rows. Validation accuracy: "
            + ", ".join(f"{a:.2f}" for a in accs) + ".")


def symmetry(frame: pd.DataFrame, preset: str = "baseline", layer: str = "block5.b", kernel: int = 5) -> str:
    """Whether left-right symmetry (from the horizontal flips) explains a layer's row share: the pictures'
    mirror share against noise's, by article.SYMMETRY_MARGIN."""
    f = scores.of(frame, preset, layer)
    ref, row, mean = metrics.mirror_null(kernel), f.row.mean(), f.mirror.mean()
    clear = mean >= ref["mirror"] + article.SYMMETRY_MARGIN
    tail = (f"The pictures are clearly symmetric (mean {mean:.2f}, more than {article.SYMMETRY_MARGIN:g} above noise): "
            f"read their row share of {row:.2f} against the symmetric null {ref['row']:.2f}." if clear else
            f"The pictures are barely more symmetric than noise (mean {mean:.2f}, within {article.SYMMETRY_MARGIN:g} of "
            f"it), so symmetry does not explain their row share of {row:.2f}: the i.i.d. null stands.")
    return (f"Share of each {layer} picture's variance that is left–right symmetric, mean over neurons: "
            + ", ".join(f"{m:.2f}" for m in f.mirror) + f" (seeds; i.i.d. noise {ref['mirror']:.2f}, perfectly "
            f"symmetric 1). Noise made symmetric would score row {ref['row']:.2f} / column {ref['col']:.2f} instead of "
            f"{f['null'].iloc[0]:.2f} / {f['null'].iloc[0]:.2f}. " + tail)


def follow_up(frame: pd.DataFrame, preset: str, layer: str = "block5.b") -> str:
    """One line per run: NMF pictures and W - W_init (dW: what training changed), with the NMF pictures' row/col
    ratio; the label of the article's thresholds only for a run no graded claim is about (a follow-up), so that a
    run with a claim has one grade wording, the verdict's."""
    s, d = scores.seed_mean(frame, preset, layer), scores.seed_mean(frame, preset, layer, "dW")
    claimed = any((c.run, c.layer) == (preset, layer) for c in article.GRADED)
    lean = ratio(s.row, s.col) if claimed else article.verdict(s.row, s.col)
    return (f"`{preset}` {layer}: NMF pictures {s.row:.2f} / {s.col:.2f}, W − W_init (dW) {d.row:.2f} / {d.col:.2f} — "
            f"{lean if claimed else f'*{lean}*'}")


def xy_pool(frame: pd.DataFrame) -> str:
    """The xy-pooling prediction checked: 5b should not band if the head already keeps the y position."""
    s, b = scores.seed_mean(frame, "xy_pool", "block5.b"), scores.seed_mean(frame, "baseline", "block5.b")
    held = article.label(s.row, s.col) == "not banded"
    return (f"**Finding.** The prediction (5b not banded when the head sees x- and y-pooled features) "
            f"{'holds' if held else 'fails'} here: xy-pooling's 5b scores {s.row:.2f} / {s.col:.2f}, "
            f"*{article.verdict(s.row, s.col)}*, against the baseline's {b.row:.2f} / {b.col:.2f}.")


def regularizers(frame: pd.DataFrame) -> str:
    """Random rotation and vertical flips: do they weaken 5b's bands (row/col ratio) against the baseline's?"""
    b = scores.seed_mean(frame, "baseline", "block5.b")
    parts = []
    for preset, what in (("random_rotation", "random rotations"), ("vflip", "random vertical flips")):
        s = scores.seed_mean(frame, preset, "block5.b")
        ratio, ref = s.row / max(s.col, 1e-6), b.row / max(b.col, 1e-6)
        change = "weakened" if ratio < ref else "did not weaken"
        parts.append(f"{what} {change} the bands (5b row/col {ratio:.1f} against the baseline's {ref:.1f}; "
                     f"{s.row:.2f} / {s.col:.2f}, *{article.label(s.row, s.col)}*)")
    return "**Finding.** " + "; ".join(parts) + "."


def over_training(run, layer: str = "block5.b") -> str:
    """How the baseline's raw-weight row share rose over training (from the run's history)."""
    hist = run.metrics["history"]
    start, end = hist[0]["banding"][layer]["W"], hist[-1]["banding"][layer]["W"]
    half = next(h["step"] for h in hist if h["banding"][layer]["W"]["row"] - start["row"] >= (end["row"] - start["row"]) / 2)
    return (f"**Finding.** In the baseline (seed {run.config['seed']}) the row share of {layer}'s raw weights went from "
            f"{start['row']:.2f} at step {hist[0]['step']} to {end['row']:.2f} at step {hist[-1]['step']} (column share "
            f"{start['col']:.2f} → {end['col']:.2f}); half of that rise was reached by step {half}.")


def architectures(frame: pd.DataFrame, verdicts: pd.DataFrame) -> str:
    """Figures 9-11 claim by claim, then each retrained run's numbers (a run that did not learn says so)."""
    claims = [f"- **{g}**: {says} — ours {ours}, article {art}" for says, ours, art, g in
              zip(verdicts["the article"], verdicts["ours row / col"], verdicts["article row / col"], verdicts.grade)]
    lines = []
    for arch, (_, layer) in article.ARCH_LAYERS.items():
        for variant in ("baseline", "rotated", "flatten"):
            preset = f"{arch}_{variant}"
            s, a = scores.seed_mean(frame, preset, layer), article.article_shares()[preset, layer]
            f = scores.of(frame, preset, layer)
            acc, chance = s.val_top1, 1 / f.num_classes.iloc[0]
            tail = (f" **— below the bar of a trained network (val. accuracy {acc:.2f}, chance {chance:.2f}, the bar "
                    f"{article.LEARNED_TORCHVISION:.2f}): its claim is inconclusive**" if not s.learned
                    else f" (val. accuracy {acc:.2f})")
            lines.append(f"- {arch} {variant}: {s.row:.2f} / {s.col:.2f}, {ratio(s.row, s.col)} (article "
                         f"{a[0]:.2f} / {a[1]:.2f}, {ratio(*a)}){tail}")
    caution = verdict.weakened_from_little(verdicts)
    return ("**Figures 9–11, claim by claim** (how each is graded: [the verdict page](00_verdict)):\n\n" + "\n".join(claims)
            + (f"\n\n{caution}" if caution else "")
            + "\n\n**Findings** (row / column share of the NMF pictures):\n\n" + "\n".join(lines))


def study_summary(study: pd.DataFrame, layer: str = "block5.b") -> str:
    """The scale study axis by axis against the profile (from study.frame), and its most banded run."""
    b = study[study.layer == layer]
    ref = b[b.axis == "the profile"].iloc[0]
    lines = [f"- **the profile**: {ref.row:.2f} / {ref.col:.2f} ({ref.val_top1:.2f}) in {ref.cpu_min:.1f} CPU-minutes"]
    for axis, group in b[b.axis != "the profile"].groupby("axis", sort=False):
        lines.append(f"- **{axis}**: " + "; ".join(f"{r.label} {r.row:.2f} / {r.col:.2f} ({r.val_top1:.2f}, "
                                                  f"{r.cpu_min:.1f} min)" for r in group.itertuples()))
    top = b.loc[b.row.idxmax()]
    return ("\n".join(lines) + f"\n\nMost banded {layer} of the study: *{top.label}*, {top.row:.2f} / {top.col:.2f} "
            f"(val. accuracy {top.val_top1:.2f}).")


def arch_scale(runs: dict, profile: str) -> str:
    """Page 04's note on the scale of the retrained architectures: input size, each architecture's recipe (width,
    steps, LR and warm-up, weight decay, batch norm) and last map (the article's: 7x7), the stem pool dropped; where a last map
    is 1x1, that its no-pooling run is the baseline again. runs: {preset: results.Run} of every ARCHITECTURES run."""
    from . import architectures

    base = {a: runs[f"{a}_baseline"] for a in article.ARCH_LAYERS}
    cfg = base["googlenet"].config
    m = cfg["model"]
    shapes = {a: architectures.last_map_shape(r.model(), m["in_size"]) for a, r in base.items()}

    def recipe(arch, run):
        t, mm = run.config["train"], run.config["model"]
        length = f"{t['steps']} steps" if t["steps"] else f"{t['epochs']} epochs"
        c, h, w = shapes[arch]
        return (f"- **{arch}**: width x{mm['width']:g}, {length} of batch {t['batch_size']}, peak LR {t['lr']:g} "
                f"after {t['warmup']} warm-up steps, weight decay {t['weight_decay']:g}, conv init x{mm.get('init_scale', 1.0):g}"
                + (", **batch norm after every conv** (torchvision's `vgg19_bn` order; the article's VGG19 has none)"
                   if mm.get("batch_norm") else "") + f"; last map {c}x{h}x{w}")

    text = (f"**Scale of this profile (`{profile}`).** Inputs {m['in_size']} px (the article: 224) on "
            f"`{cfg['data']['dataset']}`, "
            + ("each architecture's recipe chosen by its baseline's validation accuracy on seed 0 (ResNet50's also by its "
               "no-pooling run's; every candidate: [Scale study](06_scale))" if profile == "cpu" else
               "each architecture's recipe set for this profile by hand (the recipe search ran on the `cpu` profile)")
            + ", the same for its rotated and no-pooling runs; the article's last maps are 7x7:\n\n" + "\n".join(recipe(a, r) for a, r in base.items()) + "\n\n")
    if not m.get("stem_pool", True):
        text += ("To keep a real last map at this input size the stem's first max pool is replaced by an identity "
                 "(`stem_pool=False`: " + ", ".join(f"{a} `{architectures.STEM_POOLS[a]}`" for a in shapes)
                 + "), which halves the total stride. ")
    text += ("Structures are torchvision's; torchvision's InceptionV1 uses a 3x3 conv where the original mixed5b "
             "branch has 5x5.")
    for a, (_, h, w) in shapes.items():
        if h * w == 1:
            same = all(bool((x == runs[f"{a}_flatten"].weights[layer]).all()) for layer, x in base[a].weights.items())
            text += (f" **For {a} the last map is 1x1, so removing global pooling changes nothing at this scale: its "
                     f"'flatten' run is the baseline again** (final weights of every tracked layer identical: {same}).")
    return text


def vgg_flatten(frame: pd.DataFrame) -> str:
    """VGG19 without pooling: the article found it still banded and suspected a bug in its own run. What ours
    scores, seed by seed, and what the rule that grades the other two architectures (article.WEAKENED against
    the baseline) says of it: reported, not graded (the article makes no claim it stands by)."""
    layer = article.ARCH_LAYERS["vgg19"][1]
    s, base = scores.seed_mean(frame, "vgg19_flatten", layer), scores.seed_mean(frame, "vgg19_baseline", layer)
    a = article.article_shares()["vgg19_flatten", layer]
    each = lambda m: ", ".join(f"{r / c:.1f}" for r, c in zip(m.rows, m.cols))
    reading = article.WEAKENED.grade(verdict.seeds(s), (verdict.seeds(base),))
    said = {"reproduced": "weakened, seeds apart from the baseline's", "at threshold": "at threshold (its seeds "
            "fall on both sides of the baseline's, or overlap them)", "not reproduced": "not weakened"}[reading]
    return (f"**VGG19 without global pooling** (the article: still banded, {a[0]:.2f} / {a[1]:.2f}, and its authors "
            f"suspected a bug in that run). Here {s.row:.2f} / {s.col:.2f}, {ratio(s.row, s.col)} (seeds: {each(s)}; "
            f"val. accuracy {s.val_top1:.2f}) against the baseline's {base.row:.2f} / {base.col:.2f}, "
            f"{ratio(base.row, base.col)} (seeds: {each(base)}). By the rule that grades GoogLeNet's and ResNet50's "
            f"no-pooling runs, VGG19's is *{said}* (reported, not graded).")


Y_HEADS = tuple(name for name, head in HEADS.items() if head.keeps_y)  # vertical position kept by construction


def probe(table: pd.DataFrame) -> str:
    """The position probe's finding, from tables.probe_table, whichever way it comes out: does the vertical
    advantage (vertical minus horizontal probe accuracy) follow the bands across the trained runs, and the
    article's predictions run by run (banded GAP nets keep more y than x; the rotated net the reverse; vertical
    flips and random rotations remove both)."""
    table = table[~table.preset.isin(config.SECOND_SET)]  # one photo set (the second set's: page 05)
    trained = table[table.weights == "trained"]
    spearman = lambda t: t[["log2_ratio", "v_minus_h"]].corr(method="spearman").iloc[0, 1]
    rho = spearman(trained)
    keeps_y = [p for p in trained.preset.unique() if config.RUNS[p]["model"]["head"] in Y_HEADS]
    rest = trained[~trained.preset.isin(keeps_y)]
    seeds = lambda preset, w="trained": list(table[(table.preset == preset) & (table.weights == w)].v_minus_h)
    mean = lambda preset, w="trained": table[(table.preset == preset) & (table.weights == w)].v_minus_h.mean()
    fmt = lambda v: f"{v:+.2f}"

    def check(preset, passes):
        """'yes' when every seed passes, 'seeds disagree' when some do, 'no' when none; the seeds' values."""
        vals = seeds(preset)
        n = sum(passes(v) for v in vals)
        word = "yes" if vals and n == len(vals) else "no" if n == 0 else f"seeds disagree ({n} of {len(vals)})"
        return word, f"{preset.replace('_', ' ')} " + ", ".join(fmt(v) for v in vals)

    half = mean("baseline") / 2
    checks = [("banded GAP nets keep more vertical than horizontal position", *check("baseline", lambda v: v > 0)),
              ("the rotated net the reverse", *check("rotated", lambda v: v < 0)),
              ("vertical flips remove the vertical advantage", *check("vflip", lambda v: v < half)),
              ("random rotations remove it", *check("random_rotation", lambda v: v < half))]
    lines = [f"- {what}: **{word}** (each seed: {numbers})" for what, word, numbers in checks]
    return (f"**Finding.** Across the {len(trained)} trained runs, the vertical-minus-horizontal probe accuracy "
            f"and 5b's log row/col ratio have a Spearman correlation of {rho:+.2f} "
            f"({'the more banded, the more vertical position kept' if rho > 0.3 else 'no clear link' if rho > -0.3 else 'the more banded, the less vertical position kept'}). "
            f"Without the heads that keep the y position by construction ({', '.join(keeps_y) or 'none here'}: their "
            f"classifier sees 5b averaged along x, which keeps its rows), {len(rest)} runs: {spearman(rest):+.2f}. "
            f"At random init: baseline {fmt(mean('baseline', 'init'))}, rotated {fmt(mean('rotated', 'init'))}. "
            "The article's predictions, run by run, seed by seed (vertical minus horizontal accuracy; a prediction "
            "holds when every seed agrees, and a seed's probe interval is about ±0.03):\n\n"
            + "\n".join(lines))


def gradient_table(grads: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per head: 5b's weight-gradient row / column share at initialization on photos and on noise with
    random labels (mean over init seeds), beside the trained run's 5b (NMF, mean over its seeds) and its seeds."""
    g = grads.groupby(["preset", "inputs"])[["row", "col"]].mean()
    rows = []
    for preset in dict.fromkeys(grads.preset):
        row = {"run (head)": f"{preset} ({grads[grads.preset == preset]['head'].iloc[0]})"}
        for inputs in ("photos", "noise, random labels"):
            r, c = g.loc[(preset, inputs)]
            row[f"gradient at init, {inputs}"] = f"{r:.2f} / {c:.2f}"
        try:
            s = scores.seed_mean(frame, preset, "block5.b")
            row["trained 5b (NMF)"], row["seeds"] = f"{s.row:.2f} / {s.col:.2f}", int(s.seeds)
        except KeyError:
            row["trained 5b (NMF)"], row["seeds"] = "not trained", 0
        rows.append(row)
    return pd.DataFrame(rows)


def mechanism(grads: pd.DataFrame, frame: pd.DataFrame) -> str:
    """Figure 8's mechanism, from gradients.csv and the trained scores: what shape x-pooling's head gives the
    gradient of 5b before any learning, against GAP, no GAP and the y-only mirror control."""
    g = grads.groupby(["preset", "inputs"])[["row", "col"]].mean()
    at = lambda p, i="photos": f"{g.loc[(p, i), 'row']:.2f} / {g.loc[(p, i), 'col']:.2f}"
    null = grads["null"].iloc[0]
    text = (f"**Why x-pooling bands 5b.** At initialization, before any learning, the row / column share of 5b's weight "
            f"*gradient* is {at('x_pool')} under x-pooling on photos and {at('x_pool', 'noise, random labels')} on "
            f"noise with random labels, against {at('baseline')} under GAP, {at('flatten')} without GAP, and "
            f"{at('y_pool')} under the mirror head that averages over y (i.i.d. noise: {null:.2f} / {null:.2f}). A head "
            "that averages over x passes back a gradient that is the same at every x of a row (up to padding and the "
            "ReLU mask), so every update to 5b is a horizontal band by construction, whatever the photos hold.")
    try:
        x, y = scores.seed_mean(frame, "x_pool", "block5.b"), scores.seed_mean(frame, "y_pool", "block5.b")
        text += (f" Trained, x-pooling's 5b scores {x.row:.2f} / {x.col:.2f} ({int(x.seeds)} seeds) and y-pooling's "
                 f"{y.row:.2f} / {y.col:.2f} ({int(y.seeds)} seeds): row / column ratio {x.row / x.col:.1f} against "
                 f"{y.row / y.col:.2f}, each 5b leaning along the axis its head averages over (y-pooling's far less "
                 "strongly: the photos' own horizontal structure pulls the other way). So this book's x-pooled 5b is "
                 "banded largely by its head, and says little about position; "
                 "the article's x-pooled 5b (0.65 / 0.31, less banded than its 5a) may differ because at its scale "
                 "(512 channels, 90 ImageNet epochs) the photos' own signal outweighs this bias, which this book "
                 "cannot test on a CPU.")
    except KeyError:
        pass
    return text


def amplification(nulls: pd.DataFrame) -> str:
    """The NMF channel-count caveat in one paragraph, from the scores step's nmf_null.csv."""
    at = lambda what, c, k: float(nulls[(nulls.layer == what) & (nulls.in_channels == c)][k].iloc[0])
    small, big = sorted(nulls.in_channels.unique())
    return (f"**How much NMF amplifies.** The sign-split NMF reduction (3 factors) raises a layer's row share by an "
            f"amount that grows with its input channels. I.i.d. noise stays at noise ({at('i.i.d. noise', small, 'NMF row'):.2f} "
            f"at {small} channels, {at('i.i.d. noise', big, 'NMF row'):.2f} at {big}; noise level "
            f"{at('i.i.d. noise', small, 'null'):.2f}), but a weakly banded layer whose raw row share is "
            f"{at('banded + noise', small, 'W row'):.2f} scores {at('banded + noise', small, 'NMF row'):.2f} after NMF at "
            f"{small} input channels (this book's 5b) and {at('banded + noise', big, 'NMF row'):.2f} at {big} (the "
            "article's). So the article's absolute numbers, read off 512-channel pictures, do not transfer to this "
            "book's 96-channel layers: the grades read each claim against this book's own controls and cuts on the "
            "row / column ratio, and the strength column compares shares only as a rough guide.")


def position_table(frame: pd.DataFrame, probes: pd.DataFrame | None, sets: dict,
                   structure: pd.DataFrame | None = None) -> pd.DataFrame:
    """Position against content, one row per (photo set, run): 5b's and 0a's scores (NMF for 5b; W for both), the
    probe's vertical- and horizontal-position accuracy (head features), and val. accuracy. `sets`: {set name:
    {role: preset}} with roles baseline, no GAP, vflip, random rotation; `structure`: the scores step's
    photo_sets.csv (the photos' top-minus-bottom brightness), shown on each set's first row."""
    rows = []
    for name, roles in sets.items():
        if structure is not None and name in set(structure["set"]):
            st = structure[structure["set"] == name].iloc[0]
            rows.append({"photos": name, "run": "the photos themselves", "preset": st["dataset"],
                         "5b NMF row / col": f"top − bottom {st['top minus bottom']:+.1f} grey levels",
                         "5b W row / col": f"left − right {st['left minus right']:+.1f}"})
        for role, preset in roles.items():
            try:
                nmf, w = scores.seed_mean(frame, preset, "block5.b"), scores.seed_mean(frame, preset, "block5.b", "W")
            except KeyError:
                continue
            row = {"photos": name, "run": role, "preset": preset, "seeds": int(nmf.seeds),
                   "5b NMF row / col": f"{nmf.row:.2f} / {nmf.col:.2f}", "5b W row / col": f"{w.row:.2f} / {w.col:.2f}"}
            try:
                a = scores.seed_mean(frame, preset, "block0.a", "W")
                row["0a W row / col"] = f"{a.row:.2f} / {a.col:.2f} (noise {a['null']:.2f})"
            except KeyError:
                row["0a W row / col"] = "—"
            if probes is not None:
                p = probes[(probes.preset == preset) & (probes.weights == "trained") & (probes.features == "head")]
                for axis, words in (("y", "probe: vertical"), ("x", "probe: horizontal")):
                    acc = p[p.axis == axis].accuracy
                    row[words] = f"{acc.mean():.2f}" if len(acc) else "—"
            row["val. acc."] = round(float(nmf.val_top1), 2)
            rows.append(row)
        rows += _shorter_baselines(frame, name, roles["baseline"])
    return pd.DataFrame(rows).fillna("")


def _shorter_baselines(frame: pd.DataFrame, name: str, preset: str) -> list[dict]:
    """The baseline trained for fewer steps (the scale study's GAP-over-training points, seed 0), where a photo set
    has them: a control that learns less bands less for that reason alone, so compare it at matched accuracy."""
    nmf = frame[(frame.preset == preset) & (frame.layer == "block5.b") & (frame.kind == "NMF")
                & frame.study.str.startswith("GAP, 0.") & frame.study.str.endswith("weight decay the profile's")]
    return [{"photos": name, "run": f"baseline, {r.steps} steps (matched accuracy)", "preset": preset, "seeds": 1,
             "5b NMF row / col": f"{r.row:.2f} / {r.col:.2f}", "val. acc.": round(float(r.val_top1), 2)}
            for r in nmf.sort_values("steps").itertuples()]


def position_finding(frame: pd.DataFrame, name: str, roles: dict) -> str:
    """One photo set's reading (article.position_or_content) in a sentence, from 5b's NMF seeds."""
    try:
        s = {role: verdict.seeds(scores.seed_mean(frame, preset, "block5.b")) for role, preset in roles.items()}
        reading, grades = article.position_or_content(s["baseline"], s["no GAP"], s["vflip"])
    except KeyError as e:
        return f"**{name}**: not all of its runs are trained ({e})."
    ratios = ", ".join(f"{role} {s[role].ratio:.1f}" for role in s)
    return (f"**{name}: {reading}.** Removing GAP halves 5b's banding: *{grades['no GAP halves it']}*; a vertical "
            f"flip weakens it: *{grades['vflip weakens it']}* (row / column ratios, geometric mean over seeds: {ratios}).")


PRECISION_GRADES = Path(__file__).resolve().parents[1] / "benchmarks" / "grades_by_precision.json"


def precision_grades(path=PRECISION_GRADES):
    """Figures 5-8's grades from the two precisions' builds (benchmarks/grades_by_precision.py's table), with one
    line saying whether they agree; Markdown saying how to make it where the benchmark has not been run."""
    from IPython.display import Markdown

    path = Path(path)
    if not path.exists():
        return Markdown(f"*Not measured yet: run `python benchmarks/grades_by_precision.py` ({path.name}).*")
    rows = pd.DataFrame(json.loads(path.read_text())["rows"])
    same = int(rows.same.sum())
    words = (f"**{same} of {len(rows)} grades are the same in both precisions**"
             + ("." if same == len(rows) else ": the others differ where the seeds sit near a rule's cut (the seeds "
                "passing each side are shown)."))
    shown = rows.drop(columns=["claim", "same"]).style.hide(axis="index").set_table_styles(
        [{"selector": "", "props": "font-size: 0.78em"}])
    return Markdown(words + "\n\n" + shown.to_html())


def scaling_ablation(frame: pd.DataFrame) -> str:
    """The flatten and x-pool heads' 1/sqrt(n) feature scaling ablated (one seed each), beside the scaled runs."""
    parts = []
    for scaled, unscaled, n in (("flatten", "flatten_unscaled", "the 7x7 map's 49 positions"),
                                ("x_pool", "x_pool_unscaled", "the 7 rows")):
        try:
            a, b = scores.seed_mean(frame, scaled, "block5.b"), scores.seed_mean(frame, unscaled, "block5.b")
        except KeyError:
            continue
        parts.append(f"`{unscaled}` 5b {b.row:.2f} / {b.col:.2f} at val. {b.val_top1:.2f} (1 seed) against `{scaled}` "
                     f"{a.row:.2f} / {a.col:.2f} at val. {a.val_top1:.2f} ({int(a.seeds)} seeds; n = {n})")
    if not parts:
        return ""
    return ("**The 1/sqrt(n) feature scaling, ablated.** The flatten and x-pool heads divide their features by "
            "sqrt(n) so that their classifier moves per SGD step as GAP's does (`banding_lib.models.FlattenHead`); "
            "trained without it, at the profile's LR (an n times larger effective step for the classifier): "
            + "; ".join(parts) + ".")
