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

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import article, config, findings, gpu_results, panels, plots, reduce, render, runner, scores, tables, verdict, widgets

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
main = ["baseline", "rotated", "flatten", "x_pool"]
frame = scores.load(profile)
verdicts = verdict.table(frame)
first = {p: run for (p, _), run in runner.load(main + list(article.PERSISTING), profile, [0], results_root).items()}
red = lambda preset, layer="block5.b": reduce.reduction(first[preset].weights[layer])
grid = lambda preset, layer, title, **kw: plots.layer_grid(red(preset, layer), title=title, **kw)
line = lambda preset, layer="block5.b", figure=None: findings.layer_line(frame, verdicts, preset, layer, figure)
credit = f"*Panels headed \"article\": {panels.CREDIT}; every panel scored by this book's metric.*"
display(Markdown(verdict.lines(verdicts[verdicts.figure.isin(["6", "7", "8"])])))

# %% [markdown]
# (figure-6)=
# ## Figure 6: trained on images rotated by 90 degrees
#
# Ten neurons of each layer, spread through its similarity order, at one tile size: the baseline's 5b beside the
# rotated run's (each panel: the whole layer's row / column share). The full grids are a click below.

# %% tags=["hide-input"]
display(plots.side_by_side({"article: rotated 90°, 5b": panels.reduction("rotated", "block5.b"),
                            "baseline 5b": red("baseline"), "rotated 90°, 5b": red("rotated")}))
display(Markdown(credit))
display(Markdown(line("rotated", figure="Figure 6") + "  \n" + line("baseline")))
display(tables.scores_link(["baseline", "rotated"], "figure 6"))

# %% tags=["remove-input", "hide-output"]
display(grid("baseline", "block5.b", "Baseline, 5b (every neuron)"))
display(grid("rotated", "block5.b", "Rotated 90°, 5b (every neuron)"))

# %% [markdown]
# (figure-7)=
# ## Figure 7: no global average pooling (flatten + FC)

# %% tags=["hide-input"]
display(plots.side_by_side({"article: no GAP, 5b": panels.reduction("flatten", "block5.b"),
                            "baseline 5b": red("baseline"), "no GAP, 5b": red("flatten"), "no GAP, 5a": red("flatten", "block5.a")}))
display(Markdown(credit))
display(Markdown(line("flatten", figure="Figure 7") + "  \n"
                 + "5a, reported (figure 7 is graded on 5b alone): " + line("flatten", "block5.a") + "  \n"
                 + line("baseline")))
display(tables.scores_link(["baseline", "flatten"], "figure 7"))

# %% tags=["remove-input", "hide-output"]
display(grid("flatten", "block5.b", "No GAP (flatten), 5b (every neuron)"))
display(grid("flatten", "block5.a", "No GAP (flatten), 5a (every neuron)"))

# %% [markdown]
# (figure-8)=
# ## Figure 8: average pooling along x only
#
# The article saw 5a banded and 5b not ("surprising").

# %% tags=["hide-input"]
display(plots.side_by_side({"article: x-pooling, 5a": panels.reduction("x_pool", "block5.a"),
                            "article: x-pooling, 5b": panels.reduction("x_pool", "block5.b"),
                            "baseline 5a": red("baseline", "block5.a"), "x-pooling, 5a": red("x_pool", "block5.a"),
                            "x-pooling, 5b": red("x_pool")}))
display(Markdown(credit))
display(Markdown(line("x_pool", "block5.a", figure="Figure 8") + "  \n"
                 + line("x_pool", "block5.b", figure="Figure 8") + "  \n"
                 + findings.vertical_neurons({"x-pooling 5a": red("x_pool", "block5.a"),
                                              "the baseline's 5a": red("baseline", "block5.a")})))
display(tables.scores_link(["baseline", "x_pool"], "figure 8"))

# %% [markdown]
# ### Figure 8's mechanism: the shape of 5b's gradient at initialization
#
# First the mix-ups: the axes are this book's own convention (rows = y, the first spatial axis; a net trained on
# rotated photos turns its bands vertical, figure 6), x-pooling averages over x (the second spatial axis), and the
# article's two x-pool panels are read from the files its figure names 5a and 5b (their own `layer` fields). Then
# the control: each head's 5b weight gradient at initialization (no training; two init seeds, 256 validation photos
# with their labels, and as many noise photos with random labels), scored as the weights are, beside the trained
# run's 5b. A y-only pooling head is the mirror control, trained too (3 seeds).

# %% tags=["hide-input"]
grads = scores.load_beside("gradients.csv", profile)
display(findings.gradient_table(grads, frame).style.hide(axis="index").set_table_styles(
    [{"selector": "", "props": "font-size: 0.8em"}]))
display(Markdown(findings.mechanism(grads, frame) + "\n\n" + findings.scaling_ablation(frame)))
display(tables.scores_link(["x_pool", "y_pool"], "the trained scores (gradients.csv beside it: the gradient shapes)"))

# %% tags=["remove-input", "hide-output"]
display(grid("x_pool", "block5.a", "x-pooling, 5a (every neuron)"))
display(grid("x_pool", "block5.b", "x-pooling, 5b (every neuron)"))

# %% [markdown]
# ## Every intervention, scored
#
# Row and column share of 5a and 5b for every run. In the table, `W` scores the raw weights, `dW` the weights
# minus their initialization (what training changed), `NMF` the reduced pictures drawn above (comparable with
# the article's). In the chart, filled marks are this project's NMF pictures, with 95 % intervals over neurons;
# open diamonds are the article's published pictures, where it drew them. Three seeds for baseline, rotated,
# flatten and x-pooling. The table is long: it is collapsed (click to show).

# %% tags=["hide-input"]
shown = tables.shown(frame, main + list(article.PERSISTING), ["block5.a", "block5.b"])
plots.score_chart(shown[shown.kind.isin(["NMF", "article"])], title="Banding of 5a and 5b, NMF pictures")

# %% tags=["remove-input", "hide-output"]
display(tables.score_table(shown))

# %% tags=["hide-input"]
display(tables.scores_link(main + list(article.PERSISTING), "this chart and table"))

# %% [markdown]
# (persisting)=
# ## The persisting variants
#
# The article found 5b still banded in each of these. Ten neurons of each run's 5b beside the baseline's, and our
# grade of each, three seeds a run: *still banded* when every seed's row / column ratio lies nearer the baseline's
# than the no-GAP net's (the full grids are a click below). How these heads are built, where the article leaves
# room: the mask runs are the article's `gap-mask-N-sig` (its appendix names them so): N masks, each through a
# sigmoid, weighting the map before an average; its appendix also lists `l2-masks-N`, read as masks without the
# sigmoid (an L2 penalty on them), not trained here. The groups run gives each group of 5b's channels its own fully
# connected layer over *every position* (no pooling) before the final one, so it keeps position as flattening does;
# the article's words ("split into 16 groups, each with its own FC") also allow a reading with pooling before each
# group's FC, not trained here.

# %% tags=["hide-input"]
display(plots.side_by_side({"baseline": red("baseline"), **{p: red(p) for p in article.PERSISTING}}))
display(Markdown("\n".join(f"- {line(p, figure=p)}" for p in article.PERSISTING)))
display(tables.scores_link(list(article.PERSISTING), "the persisting variants"))

# %% tags=["remove-input", "hide-output"]
for p in article.PERSISTING:
    display(grid(p, "block5.b", f"{p}, 5b — {config.RUNS[p]['about']}", columns=24, pixel=4))

# %% [markdown]
# ## Pick a neuron
#
# Click a neuron in the small grid (or move the slider) to see it enlarged, each colour's factor alone,
# the input channels each colour stands for, and its scores. **Reading "R: +12 −35 +3 −60"**: each neuron's
# picture is three non-negative factors (R, G, B), found by NMF over its input channels split by sign (channel c's
# positive weights and its negative weights are two separate columns, so nothing cancels); the line lists, for the
# red factor, the four input channels (of the layer below, 5a) it leans on most: +12 means channel 12's positive
# weights, −35 channel 35's negative weights. In a running notebook (`jupyter lab
# notebooks/03_interventions.py` with jupytext), the cell after this one adds a live picker for every run and
# layer.

# %% tags=["hide-input"]
widgets.static_neuron_picker_for(red("baseline"), layer="block5.b",
                                 title="Baseline 5b: pick a neuron")

# %% tags=["remove-cell"]
# The live picker (ipywidgets): every run and layer, in a running notebook only (the book leaves this cell out).
widgets.neuron_picker(list(first.values()), layers=("block5.a", "block5.b"))

# %% tags=["hide-input"]
display(Markdown(gpu_results.section(level=2)))  # figures 5-8 at the article's own scale, where a GPU ran them

# %% [markdown]
# ## Appendix (figure 12): clusters of neurons across every run
#
# The reduced pictures of 5a and 5b of every run, each normalized, clustered with k-means; the heat map
# gives the percentage of each run's neurons in each cluster, the pictures above it the cluster centres.
# Move the slider to pick k (4 to 19); every k was computed when this page was built.

# %% tags=["hide-input"]
table = scores.load_beside("clusters.csv", profile)  # computed by the scores step (scores.clusters)
plots.cluster_summary(table, title="k-means clusters of normalized 5a / 5b pictures, every run")
