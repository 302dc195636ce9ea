"""The verdict: each claim of the article (article.CLAIMS), beside this book's number and a grade.

`table(frame)` grades every claim from the scores of every seed of its run (the scores step's table,
banding_lib.scores), so the verdict page and each page's own grade line (`line`) cannot disagree.
"""
from __future__ import annotations

import pandas as pd

from . import article, config, scores


def means(frame: pd.DataFrame, kind: str = "NMF") -> dict:
    """{(run, layer): scores.seed_mean(...)} of every (run, layer) a graded claim needs that `frame` holds."""
    keys = dict.fromkeys([(c.run, c.layer) for c in article.CLAIMS] + [r for c in article.CLAIMS for r in c.refs])
    out = {}
    for run, layer in keys:
        try:
            out[run, layer] = scores.seed_mean(frame, run, layer, kind)
        except KeyError:
            pass
    return out


def seeds(s: pd.Series) -> article.Seeds:
    """What a rule reads of a seed_mean row: each seed's row and column share."""
    return article.Seeds(tuple(s.rows), tuple(s.cols))


def grade(claim: article.Claim, m: dict) -> str:
    """One of article.GRADES, or 'not graded', for one claim, from means(...): 'inconclusive' when a seed of
    its run (or of a control it is compared with) did not learn (article.learned); else the claim's rule."""
    if claim.rule is None:
        return "not graded"
    s, refs = m[claim.run, claim.layer], [m[r] for r in claim.refs]
    if not s.learned or not all(r.learned for r in refs):
        return "inconclusive"
    return claim.rule.grade(seeds(s), tuple(seeds(r) for r in refs))


def passing(claim: article.Claim, m: dict) -> str:
    """How many of the run's seeds alone pass the claim's per-seed test ("2 / 3"): a grade "at threshold" is one
    whose seeds fall on both sides."""
    s = m[claim.run, claim.layer]
    if claim.rule is None:
        return "—"
    refs = tuple(seeds(m[r]) for r in claim.refs)
    return f"{sum(claim.rule.passes(seeds(s), refs))} / {int(s.seeds)}"


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The verdict, one row per claim whose runs `frame` (the scores step's table) holds: figure, the article's
    claim, run and layer, the article's number (its published pictures, where it drew them), ours (mean over
    seeds, with their range: the interval is over seeds, never over neurons), val. accuracy, the grade on the NMF
    pictures (the article's method) and the same rule on the raw weights (W), whether they agree, how many seeds
    pass, the strength against the article, and the old absolute reading of the mean."""
    m, w = means(frame), means(frame, "W")
    rows = []
    for c in article.CLAIMS:
        if (c.run, c.layer) not in m or any(r not in m for r in c.refs):
            continue
        s = m[c.run, c.layer]
        nmf, raw = grade(c, m), (grade(c, w) if (c.run, c.layer) in w and all(r in w for r in c.refs) else "—")
        power = article.strength(c, seeds(s), tuple(seeds(m[r]) for r in c.refs), float(s["null"])) if c.rule else None
        rows.append({"figure": c.figure, "the article": c.says, "run, layer": f"{c.run}, {c.layer}",
                     "article row / col": f"{c.article[0]:.2f} / {c.article[1]:.2f}" if c.article else "in words",
                     "ours row / col": f"{s.row:.2f} / {s.col:.2f}", "seeds": int(s.seeds),
                     "row range": f"{s.row_min:.2f}–{s.row_max:.2f}" if s.seeds > 1 else "—",
                     "ratio": round(float(seeds(s).ratio), 2),
                     "val. acc.": round(float(s.val_top1), 2), "grade": nmf, "W grade": raw,
                     "W agrees": "—" if c.rule is None or raw == "—" else ("yes" if raw == nmf else "no"),
                     "seeds pass": passing(c, m), "strength": power,
                     "absolute reading": article.label(s.row, s.col)})
    return pd.DataFrame(rows)


GRADE_COLOURS = {"reproduced": "#d9f2d9", "at threshold": "#fff2cc", "not reproduced": "#f8d7d7", "inconclusive": "#e6e6e6"}
# Where each figure's claims are drawn: (page, MyST target above its section); "text": the persisting variants.
FIGURE_PAGES = {"1": ("01_discovery", "figure-1"), "3": ("01_discovery", "figure-3"),
                "5": ("02_simplified_net", "figure-5"), "6": ("03_interventions", "figure-6"),
                "7": ("03_interventions", "figure-7"), "8": ("03_interventions", "figure-8"),
                "text": ("03_interventions", "persisting"), "9": ("04_popular_architectures", "figure-9"),
                "10": ("04_popular_architectures", "figure-10"), "11": ("04_popular_architectures", "figure-11")}


def figure_link(figure: str) -> str:
    """The figure's number linked to its section in the built book ('text': the persisting variants)."""
    page, target = FIGURE_PAGES[figure]
    return f'<a href="{page}.html#{target}">{"text" if figure == "text" else figure}</a>'


def styled(verdicts: pd.DataFrame, pictures: dict | None = None, theirs: dict | None = None):
    """The verdict table as the page shows it: no index; the figure linked to its section; the claim with its run
    and layer under it; with `pictures` ({(run, layer): HTML of a picture strip}, e.g. plots.strip_html), a
    strip of the claim's layer, the article's strip of the same layer above it where `theirs` (the same for the
    article's panels) has one, and for a claim compared with another run, that run's strip under it; the article's
    number and ours each on one line (ours with its seeds' range below); each grade on its colour."""
    pictures, theirs = pictures or {}, theirs or {}
    refs = {(c.figure, c.says): c.ref for c in article.CLAIMS}
    small = lambda text: f'<br><span style="font-size: 0.85em; color: #555">{text}</span>'

    def strip(row):
        run, layer = row["run, layer"].split(", ")
        ref = refs.get((row["figure"], row["the article"]))
        html = pictures.get((run, layer), "")
        if (run, layer) in theirs:
            html = small("article:") + theirs[run, layer] + small("ours:") + html
        if ref and ref in pictures:
            html += small(f"{ref[0]}, {ref[1]}:") + pictures[ref]
        return html

    nums = lambda v: f'<span style="white-space: nowrap">{v}</span>'
    shown = pd.DataFrame({
        "fig.": [figure_link(f) for f in verdicts["figure"]],
        "the article's claim": [c + small(f"<code>{r.split(', ')[0]}</code>, {r.split(', ')[1]}")
                                for c, r in zip(verdicts["the article"], verdicts["run, layer"])],
        **({"pictured": [strip(r) for _, r in verdicts.iterrows()]} if pictures else {}),
        "row / col: article, ours": [
            nums(a) + "<br>" + nums(v) + (small(nums(f"rows {g}, {n} seeds")) if n > 1 else small("1 seed"))
            for a, v, g, n in zip(verdicts["article row / col"], verdicts["ours row / col"], verdicts["row range"],
                                  verdicts["seeds"])],
        "val. acc.": verdicts["val. acc."],
        "direction": [g + (small(nums(f"{p} seeds pass")) if p != "—" else "")
                      + (small(f"raw W: {w}" + (", disagrees" if a == "no" else "")) if w not in ("—", g) or a == "no" else "")
                      for g, p, w, a in zip(verdicts["grade"], verdicts["seeds pass"], verdicts["W grade"], verdicts["W agrees"])],
        "strength": [strength_words(v) + small(nums(r)) for v, r in zip(verdicts["strength"], verdicts["absolute reading"])]})
    colour = lambda col: [next((f"background-color: {c}" for g, c in GRADE_COLOURS.items() if str(v).startswith(g)), "")
                          for v in col]
    return shown.style.hide(axis="index").format({"val. acc.": "{:.2f}"}).apply(
        colour, subset=["direction"]).set_table_styles([{"selector": "", "props": "font-size: 0.78em"}])


def strength_words(value) -> str:
    """A strength as the page shows it: "0.78 x the article" (ours as a share of the article's effect), or "—"."""
    return "—" if value is None or pd.isna(value) else f"{value:.2f} x the article"


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
    overall = next((g for g in ("reproduced", "not reproduced", "inconclusive", "at threshold")
                    if counts.get(g, 0) == len(graded)), "mixed")
    others = [f"{counts[g]} {g}" for g in ("at threshold", "inconclusive") if counts.get(g, 0)]
    return (f"Figure {figure}: {overall} ({counts.get('reproduced', 0)} of {len(graded)} claims reproduced"
            + "".join(f", {o}" for o in others) + ")")


def lines(verdicts: pd.DataFrame) -> str:
    """A page's verdict: one line per figure of `verdicts`, as Markdown."""
    figures = [f for f in dict.fromkeys(verdicts.figure) if f != "text"]
    return "**Verdict** (every claim: [the verdict page](00_verdict)): " + "; ".join(line(verdicts, f) for f in figures) + "."


def noise(frame: pd.DataFrame, layer: str = "block5.b") -> str:
    """How far floating-point noise alone moves a score, beside the seeds' spread, in one sentence: the
    baseline's seed 0 trained again with another thread count (config.STUDY's "floating-point noise" point:
    the same config, only the order of floating-point sums differs) against the baseline's seeds."""
    point = next(p for p in config.STUDY + config.CUT_POINTS if p["axis"] == "floating-point noise")
    nmf = frame[(frame.layer == layer) & (frame.kind == "NMF")]
    twins = nmf[nmf.study.str.contains(point["label"], regex=False)]
    seeds = scores.of(frame, "baseline", layer)
    if twins.empty:  # the repeat is cut from this build's study (config.CUT_POINTS): the seeds' spread alone
        return (f"The baseline's {len(seeds)} seeds span {seeds.row.min():.2f}–{seeds.row.max():.2f} in {layer}'s "
                "row share: the seed, not the neuron, is the unit every grade counts.")
    two, one = twins.iloc[0], seeds[seeds.seed == 0].iloc[0]
    return (f"Floating-point noise: the baseline's seed 0 trained again on {point['set']['threads']} "
            f"threads (the same config; only the order of floating-point sums differs) scores {layer} {two.row:.2f} / "
            f"{two.col:.2f} against {one.row:.2f} / {one.col:.2f}, a move of {abs(two.row - one.row):.2f} in row "
            f"share, beside a range of {seeds.row.max() - seeds.row.min():.2f} over {len(seeds)} seeds "
            f"({seeds.row.min():.2f}–{seeds.row.max():.2f}). A grade that every seed agrees with is the one a rebuild "
            "on another machine is most likely to repeat.")


def weakened_from_little(verdicts: pd.DataFrame) -> str:
    """A caution for each contrast claim graded *weakened* (article.WEAKENED) whose control is itself claimed banded
    and graded *not reproduced*: the contrast reproduces in direction, but there was little banding to weaken (its
    strength says how much). "" when there is none."""
    by_run = verdicts.set_index("run, layer")
    banded = {(c.run, c.layer) for c in article.CLAIMS if c.rule is article.BANDED_RULE}
    notes = []
    for c in article.CLAIMS:
        key, ref = f"{c.run}, {c.layer}", c.ref and f"{c.ref[0]}, {c.ref[1]}"
        if (c.rule is article.WEAKENED and c.ref in banded and key in by_run.index and ref in by_run.index
                and by_run.grade[key] == "reproduced" and by_run.grade[ref] == "not reproduced"):
            power = "" if pd.isna(by_run.strength[key]) else f", {by_run.strength[key]:.2f} x the article's strength"
            notes.append(f"{c.says} (fig. {c.figure}) holds in direction only: its control is not banded itself "
                         f"({by_run.loc[ref, 'ours row / col']}){power}")
    return "" if not notes else "*Weakened from little:* " + "; ".join(notes) + "."


def headline(verdicts: pd.DataFrame) -> str:
    """The result in one sentence, from the table's own grades and numbers: how many claims reproduced in
    direction, the core figures with their ratio and strength, what sits at threshold, what did not reproduce,
    and what could not be tested."""
    graded = verdicts[verdicts.grade != "not graded"]
    counts = graded.grade.value_counts()
    by_key = graded.set_index("run, layer")

    def core(key, words):
        if key not in by_key.index:
            return None
        r = by_key.loc[key]
        power = "" if pd.isna(r.strength) else f", {r.strength:.2f} x the article's strength"
        vertical = any(c.rule is article.VERTICAL and f"{c.run}, {c.layer}" == key for c in article.CLAIMS)
        ratio = (f"column / row ratio {1 / r.ratio:.1f}" if vertical and r.ratio > 0 else
                 f"row / column ratio {r.ratio:.1f}")
        return f"{words} {r.grade} ({ratio}, seeds pass {r['seeds pass']}{power})"

    cores = [c for c in (core("baseline, block5.b", "5b banded:"), core("rotated, block5.b", "turned vertical by rotation:"),
                         core("flatten, block5.b", "halved without GAP:")) if c]
    def named(grade):
        return "; ".join(r["the article"] + ("" if r.figure == "text" else f" (fig. {r.figure})")
                         for _, r in graded[graded.grade == grade].iterrows())
    told = [f"{counts.get('reproduced', 0)} reproduced in direction on every seed",
            f"{counts.get('at threshold', 0)} at threshold", f"{counts.get('not reproduced', 0)} not reproduced"]
    if counts.get("inconclusive", 0):
        told.append(f"{counts['inconclusive']} could not be tested here")
    parts = [f"**Of {len(graded)} graded claims, {', '.join(told[:-1])} and {told[-1]}.**"]
    if cores:
        parts.append("The core: " + "; ".join(cores) + ".")
    if weakened_from_little(verdicts):
        parts.append(weakened_from_little(verdicts))
    if counts.get("not reproduced", 0):
        parts.append(f"Not reproduced: {named('not reproduced')}.")
    if counts.get("inconclusive", 0):
        n = counts["inconclusive"]
        figures = ", ".join("the persisting variants" if f == "text" else f"figure {f}"
                            for f in dict.fromkeys(graded[graded.grade == "inconclusive"].figure))
        what = named("inconclusive") if n <= 3 else f"the claims of {figures}"  # a few by name, many by figure
        parts.append(f"Untested: {what}, whose runs stay below the learning target (val. "
                     f"top-1 {article.LEARNED:g} x chance; {article.LEARNED_TORCHVISION:.2f} for a retrained torchvision net).")
    return " ".join(parts)
