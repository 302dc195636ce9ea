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
# # Interventions (figures 6–8, the persisting variants, and the appendix's figure 12)
#
# The article changed one thing at a time and looked at 5a and 5b: rotate every image by 90 degrees,
# remove GAP (a fully connected layer over the whole map), pool along x only, and seven ways of keeping
# spatial information that did *not* remove banding. Every run here is the simplified network of the
# previous page with one keyword argument changed (`banding_lib.config.RUNS`).

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results
seeds = [0, 1, 2]  # seeds of baseline, rotated, flatten and x_pool; the other runs use seed 0

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import article, config, plots, render, runner, tables, verdict, widgets

config.validate_params(profile=profile, seeds=seeds, results_root=results_root)
render.use_offline_renderer("static")
main = ["baseline", "rotated", "flatten", "x_pool"]
persisting = ["masks3", "masks5", "masks16", "mask_full", "attention", "coordconv", "groups", "maxpool_fc"]
runs = runner.load(main, profile, seeds, results_root)
runs |= runner.load(persisting, profile, [seeds[0]], results_root)
first = {p: runs[p, seeds[0]] for p in main + persisting}
all_runs = list(runs.values())
frame = tables.scores_frame(all_runs, ["block5.a", "block5.b"], kinds=("W", "dW", "NMF"))
rows = tables.score_rows(frame, all_runs, "03_interventions")
tables.record(rows)
verdicts = verdict.table(runs)
display(Markdown(verdict.lines(verdicts)))


def finding(preset, layer="block5.b", figure=None):
    """One line from the NMF-picture scores of every seed of `preset`, beside the article's; with `figure`, led
    by the grade of the article's claim about that layer (the verdict page's: reproduced / partly / not
    reproduced / inconclusive)."""
    s = tables.seed_mean(rows, preset, layer)
    art = article.ARTICLE_SHARES.get((preset, layer))
    said = f"article {art[0]:.2f} / {art[1]:.2f}" if art else f"article: {config.RUNS[preset]['article']}"
    head = f"**{figure}: {verdict.grade_of(verdicts, preset, layer)}.** " if figure else ""
    return (f"{head}`{preset}` {layer}: {tables.describe_scores(s)} — *{article.verdict(s['row'], s['col'])}* ({said})")


# %% [markdown]
# ## Figure 6: trained on images rotated by 90 degrees

# %% tags=["hide-input"]
display(plots.layer_grid(first["rotated"].weights["block5.b"], title="Rotated 90°, 5b"))
display(Markdown(finding("rotated", figure="Figure 6") + "  \n" + finding("baseline")))

# %% [markdown]
# ## Figure 7: no global average pooling (flatten + FC)

# %% tags=["hide-input"]
display(plots.layer_grid(first["flatten"].weights["block5.b"], title="No GAP (flatten), 5b"))
display(Markdown(finding("flatten", figure="Figure 7") + "  \n"
                 + "5a, reported (figure 7 is graded on 5b alone): " + finding("flatten", "block5.a") + "  \n"
                 + finding("baseline")))

# %% [markdown]
# ## Figure 8: average pooling along x only
#
# The article saw 5a banded and 5b not ("surprising").

# %% tags=["hide-input"]
display(plots.layer_grid(first["x_pool"].weights["block5.a"], title="x-pooling, 5a"))
display(plots.layer_grid(first["x_pool"].weights["block5.b"], title="x-pooling, 5b"))
display(Markdown(finding("x_pool", "block5.a", figure="Figure 8, 5a banded") + "  \n"
                 + finding("x_pool", "block5.b", figure="Figure 8, 5b less banded than 5a")))

# %% [markdown]
# ## Every intervention, scored
#
# Row and column share of 5a and 5b for every run (dots: this project, with 95 % intervals over neurons;
# diamonds: the article's published pictures, where it drew them). Three seeds for baseline, rotated,
# flatten and x-pooling.

# %% tags=["hide-input"]
display(tables.score_table(frame))
plots.score_chart(frame[frame.kind.isin(["NMF", "article"])], title="Banding of 5a and 5b, NMF pictures")

# %% [markdown]
# ## The persisting variants
#
# The article found 5b still banded in each of these. Our verdicts, from the numbers above:

# %% tags=["hide-input"]
display(Markdown("\n".join(f"- {finding(p, figure='still banded')}" for p in persisting)))
for p in persisting:
    display(plots.layer_grid(first[p].weights["block5.b"], title=f"{p}, 5b — {config.RUNS[p]['about']}", columns=24, pixel=4))

# %% [markdown]
# ## Pick a neuron
#
# Click a neuron in the small grid (or move the slider) to see it enlarged, each colour's factor alone,
# the input channels each colour stands for, and its scores. In a running notebook (`jupyter lab
# notebooks/03_interventions.py` with jupytext), the cell after this one adds a live picker for every run and
# layer.

# %% tags=["hide-input"]
widgets.static_neuron_picker_for(first["baseline"].weights["block5.b"], layer="block5.b", title="Baseline 5b: pick a neuron")

# %% tags=["remove-cell"]
# The live picker (ipywidgets): every run and layer, in a running notebook only (the book leaves this cell out).
widgets.neuron_picker(list(first.values()), layers=("block5.a", "block5.b"))

# %% [markdown]
# ## Appendix (figure 12): clusters of neurons across every run
#
# The reduced pictures of 5a and 5b of every run, each normalized, clustered with k-means; the heat map
# gives the percentage of each run's neurons in each cluster, the pictures above it the cluster centres.
# Move the slider to pick k (4 to 19); every k was computed when this page was built.

# %% tags=["hide-input"]
table = tables.cluster_table(tables.reduced_pictures(list(first.values()), layers=("block5.a", "block5.b")))
plots.cluster_summary(table, title="k-means clusters of normalized 5a / 5b pictures, every run")
