# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The verdict: what was reproduced
#
# Each claim the article makes about a network it trained, figure by figure: the article's number (the row and
# column share of its own published pictures, where it drew them), ours (the same score of our NMF pictures,
# the mean over seeds, with the seeds' range), and a grade. **Row share**: how much of each neuron's kernel
# picture is explained by its row means, i.e. horizontal bands; **column share**: by its column means
# (vertical bands). Every number below is computed when this page is built, from the same runs and scores as
# the pages that draw the figures.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import article, config, metrics, results, runner, verdict

config.validate_params(profile=profile, results_root=results_root)
runs = {key: run for p in verdict.RUNS for key, run in runner.load([p], profile, config.RUNS[p]["seeds"], results_root).items()}
verdicts = verdict.table(runs)
counts = verdicts[verdicts.grade != "not graded"].grade.value_counts()
cfg = runs["baseline", 0].config
display(Markdown(
    f"**Built at the `{profile}` profile**: {cfg['data']['dataset']}, {cfg['model']['in_size']}-px inputs, the "
    f"simplified network at width {cfg['model']['width']:g}, {cfg['train']['steps'] or cfg['train']['epochs']} "
    f"{'steps' if cfg['train']['steps'] else 'epochs'} of batch {cfg['train']['batch_size']} (the article: ImageNet, "
    f"224 px, full width, 90 epochs). Of {int(counts.sum())} graded claims, **{counts.get('reproduced', 0)} reproduced, "
    f"{counts.get('partly', 0)} partly, {counts.get('not reproduced', 0)} not reproduced, "
    f"{counts.get('inconclusive', 0)} inconclusive**."))
display(Markdown(verdict.summary(verdicts)))
twin_config = next(c for point, c in config.study_configs(profile) if point["axis"] == "floating-point noise")
display(Markdown(verdict.noise(runs, results.load_run(results.run_dir(twin_config, results_root)))))
display(Markdown(
    f"How to read the grades (`banding_lib.article.grade`). I.i.d. noise scores {metrics.null_share(5, 5):.2f} on "
    f"rows and on columns for 5x5 kernels ({metrics.null_share(3, 3):.2f} for 3x3). *banded* is reproduced at row ≥ "
    f"{article.STRONG[0]} and column ≤ {article.STRONG[1]} (the article's pictures: "
    f"{article.ARTICLE_SHARES['baseline', 'block5.b'][0]:.2f} / {article.ARTICLE_SHARES['baseline', 'block5.b'][1]:.2f}), "
    f"partly at the article's own reading of banded (row ≥ {article.BANDED[0]} and ≥ {article.BANDED[1]} x the column "
    "share, `article.verdict`); *still banded* is reproduced at that reading; *not banded* and *less banded* when the "
    "row / column ratio falls below that of the layer compared with; figure 7 (no global pooling) is reproduced when "
    f"5b's row / column ratio is at most {article.HALVED:g} x the baseline's and every seed's ratio lies below every "
    "baseline seed's, partly when it is only lower; the retrained architectures (figures 9–11) lean "
    f"banded at row ≥ {article.LEANS[0]} and ≥ {article.LEANS[1]:g} x column. A claim whose run did not learn "
    f"(val. top-1 below {article.LEARNED:g} x chance on any seed) is *inconclusive*, never *not reproduced*. "
    "*seeds agreeing*: of the run's seeds, how many alone get the grade their mean gets."))

# %% tags=["hide-input"]
display(verdicts.style.hide(axis="index").format({"val. acc.": "{:.2f}"}).apply(
    lambda col: [{"reproduced": "background-color: #d9f2d9", "partly": "background-color: #fff2cc",
                  "not reproduced": "background-color: #f8d7d7", "inconclusive": "background-color: #e6e6e6"}.get(v, "") for v in col], subset=["grade"]
).set_table_styles([{"selector": "", "props": "font-size: 0.85em"}]))

# %% [markdown]
# Figures 1–3 (pretrained ImageNet models) are not graded here: the pages built offline show this project's
# own retrained networks in their place (see [Discovery](01_discovery)). Figure 4 is the architecture, drawn
# from the code that builds it. The follow-ups the article proposed but never ran have no claim to grade; their
# results are on [Follow-ups](05_follow_ups).
