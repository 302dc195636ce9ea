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
# # The simplified network (figures 4–5)
#
# The article built a small network to study banding in isolation: twelve 5x5 conv layers in six groups,
# L2 pooling between groups, batch norm, and global average pooling (GAP) before one fully connected layer.
# Its last layer, 5b, is fully banded. This page draws the network from the code that builds it
# (`banding_lib.models.simplified_net`), trains it (or loads it from the result cache) and draws 5b.

# %% tags=["parameters"]
profile = "cpu"  # smoke (seconds, synthetic images) | cpu (Imagenette on a 2-core CPU) | gpu-small (the book on one GPU) | gpu (ImageNet, the article's scale)
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, findings, models, panels, plots, reduce, render, runner, scores, tables, verdict

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
frame = scores.load(profile)
verdicts = verdict.table(frame)
first = runner.load(["baseline"], profile, [0], results_root)["baseline", 0]
display(Markdown(verdict.lines(verdicts[verdicts.figure == "5"])))

# %% [markdown]
# ## Figure 4: the architecture
#
# At the article's scale (224 px input, five L2 pools, 7x7 map at 5a and 5b). Box width grows with the
# channel count, height with the map's side.

# %% tags=["hide-input"]
plots.architecture_diagram(models.describe(models.simplified_net(1001)), title="The simplified network at 224 px (article scale)")

# %% [markdown]
# The same network as trained on this page's profile, and every way it differs from the article's. The
# profile's recipe was chosen by the baseline's validation accuracy at a fixed CPU budget on seed 0, never by
# its bands (the rule, fixed before the runs, and every candidate tried: [the appendix](06_scale)); seeds 1
# and 2 below confirm it.

# %% tags=["hide-input"]
scaled = first.model()
display(tables.profile_differences(first.config, scaled, first.metrics["num_classes"]).style)  # a Styler: no cell cut short
plots.architecture_diagram(models.describe(scaled), title=f"As trained here (profile {profile})")

# %% [markdown]
# (figure-5)=
# ## Figure 5: layer 5b of the baseline
#
# Each neuron's 5x5 kernel reduced to an RGB picture (sign-split NMF, three factors; colours made
# consistent across the layer), neurons ordered by similarity. The title gives the layer's banding score on
# these pictures: the mean share of each picture's variance explained by its row means (horizontal bands)
# and by its column means (vertical bands), with 95 % bootstrap intervals over neurons.

# %% tags=["hide-input"]
display(plots.side_by_side({"the article, 5b": panels.reduction("baseline", "block5.b"),
                            "this book, 5b (seed 0)": reduce.reduction(first.weights["block5.b"])}, columns=2))
display(Markdown(f"*Left: {panels.CREDIT}; both scored by this book's metric. Ten neurons each, spread through "
                 "the layer's similarity order; the whole layer below.*"))

# %% tags=["hide-input"]
plots.layer_grid(reduce.reduction(first.weights["block5.b"]), title="Baseline, 5b (seed 0)")

# %% tags=["hide-input"]
plots.layer_grid(reduce.reduction(first.weights["block5.a"]), title="Baseline, 5a (seed 0)")

# %% [markdown]
# ## The numbers, every seed
#
# `W`: raw weights, `dW`: weights minus their random initialization (what training changed), `NMF`: the
# reduced pictures above; `article`: the same score measured on the article's own published pictures.

# %% tags=["hide-input"]
shown = tables.shown(frame, ["baseline"], ["block5.a", "block5.b"])
display(tables.score_table(shown))
display(plots.score_chart(shown, title="Baseline banding per seed"))
display(tables.scores_link(["baseline"], "figure 5 and these numbers"))

# %% tags=["hide-input"]
display(Markdown(findings.layer_line(frame, verdicts, "baseline", "block5.b", figure="Figure 5")))
display(Markdown(findings.baseline(frame)))

# %% [markdown]
# **A caveat on the null.** Random horizontal flips (the training augmentation, as in the article) reward
# kernels that look the same mirrored left–right, and mirror symmetry alone raises the row share: noise
# made exactly symmetric scores higher on rows than i.i.d. noise. How symmetric are the baseline's pictures?

# %% tags=["hide-input"]
display(Markdown(findings.symmetry(frame, "baseline", "block5.b", kernel=first.weights["block5.b"].shape[-1])))
