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

from banding_lib import article, config, findings, plots, reduce, render, runner, scores, tables, verdict, widgets

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
main = ["baseline", "rotated", "flatten", "x_pool"]
frame = scores.load(profile)
verdicts = verdict.table(frame)
first = {p: run for (p, _), run in runner.load(main + list(article.PERSISTING), profile, [0], results_root).items()}
grid = lambda preset, layer, title, **kw: plots.layer_grid(reduce.reduction(first[preset].weights[layer]), title=title, **kw)
line = lambda preset, layer="block5.b", figure=None: findings.layer_line(frame, verdicts, preset, layer, figure)
display(Markdown(verdict.lines(verdicts[verdicts.figure.isin(["6", "7", "8"])])))

# %% [markdown]
# ## Figure 6: trained on images rotated by 90 degrees

# %% tags=["hide-input"]
display(grid("rotated", "block5.b", "Rotated 90°, 5b"))
display(Markdown(line("rotated", figure="Figure 6") + "  \n" + line("baseline")))

# %% [markdown]
# ## Figure 7: no global average pooling (flatten + FC)

# %% tags=["hide-input"]
display(grid("flatten", "block5.b", "No GAP (flatten), 5b"))
display(Markdown(line("flatten", figure="Figure 7") + "  \n"
                 + "5a, reported (figure 7 is graded on 5b alone): " + line("flatten", "block5.a") + "  \n"
                 + line("baseline")))

# %% [markdown]
# ## Figure 8: average pooling along x only
#
# The article saw 5a banded and 5b not ("surprising").

# %% tags=["hide-input"]
display(grid("x_pool", "block5.a", "x-pooling, 5a"))
display(grid("x_pool", "block5.b", "x-pooling, 5b"))
display(Markdown(line("x_pool", "block5.a", figure="Figure 8, 5a banded") + "  \n"
                 + line("x_pool", "block5.b", figure="Figure 8, 5b less banded than 5a")))

# %% [markdown]
# ## Every intervention, scored
#
# Row and column share of 5a and 5b for every run (dots: this project, with 95 % intervals over neurons;
# diamonds: the article's published pictures, where it drew them). Three seeds for baseline, rotated,
# flatten and x-pooling.

# %% tags=["hide-input"]
shown = tables.shown(frame, main + list(article.PERSISTING), ["block5.a", "block5.b"])
display(tables.score_table(shown))
plots.score_chart(shown[shown.kind.isin(["NMF", "article"])], title="Banding of 5a and 5b, NMF pictures")

# %% [markdown]
# ## The persisting variants
#
# The article found 5b still banded in each of these. Our verdicts, from the numbers above:

# %% tags=["hide-input"]
display(Markdown("\n".join(f"- {line(p, figure='still banded')}" for p in article.PERSISTING)))
for p in article.PERSISTING:
    display(grid(p, "block5.b", f"{p}, 5b — {config.RUNS[p]['about']}", columns=24, pixel=4))

# %% [markdown]
# ## Pick a neuron
#
# Click a neuron in the small grid (or move the slider) to see it enlarged, each colour's factor alone,
# the input channels each colour stands for, and its scores. In a running notebook (`jupyter lab
# notebooks/03_interventions.py` with jupytext), the cell after this one adds a live picker for every run and
# layer.

# %% tags=["hide-input"]
widgets.static_neuron_picker_for(reduce.reduction(first["baseline"].weights["block5.b"]), layer="block5.b",
                                 title="Baseline 5b: pick a neuron")

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
table = tables.cluster_table({(p, layer): reduce.reduction(run.weights[layer]).pictures.numpy()
                              for p, run in first.items() for layer in ("block5.a", "block5.b")})
plots.cluster_summary(table, title="k-means clusters of normalized 5a / 5b pictures, every run")
