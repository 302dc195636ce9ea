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
# # Glossary
#
# **Weight banding.** A layer is *banded* when each neuron's kernel is nearly constant along x and varies along
# y: horizontal stripes. *Vertical bands* are the same turned 90 degrees.
#
# **Layers.** The simplified network's conv layers are named by block and letter as in the article:
# `block0.a` (the 7x7 first layer, "0a") up to `block5.a` and `block5.b` ("5a", "5b"), the last two, which see
# the smallest map; a layer of a torchvision network is its module path (`inception5b.branch3.1`,
# `layer4.2.conv2`, `features.34`). A neuron is `layer:index`.
#
# **W, dW, NMF.** Three ways to score a layer: `W` the raw weights (every input channel of each neuron pooled),
# `dW` the weights minus their random initialization (what training changed), `NMF` the reduced pictures drawn
# in the figures: each neuron's kernel collapsed from its input channels to three colours by sign-split
# non-negative matrix factorization (Voss et al., *Visualizing Weights*), colours made consistent across the
# layer. `article`: the same score measured on the article's own published pictures.
#
# **Row share / column share.** For one kernel, the share of its spatial variance explained by its row means
# (horizontal bands) and by its column means (vertical bands); averaged over the layer's neurons, with a 95 %
# bootstrap interval over neurons. Written `row / col`, e.g. `0.88 / 0.08`.
#
# **Null, i.i.d. noise.** What a kernel of random numbers scores on both shares, (k-1)/(k²-1) for a k x k kernel;
# the dashed lines and the `null` column.
#
# **Seeds, s0.** Each run is trained from several random initializations (seeds 0, 1, 2 for the runs the
# article's claims rest on); `baseline s1` is the baseline's seed 1.
#
# **Profile.** How big and how long a run is: `smoke` (tests), `cpu` (this book), `gpu-small`, `gpu` (the
# article's scale). **Grade.** Whether a claim of the article was *reproduced* (every seed passes its rule),
# *at threshold* (seeds on both sides of the rule's cut) or *not reproduced*, by the rules on
# [the verdict page](00_verdict); its *strength* against the article is reported apart.
#
# **Runs.** Every run of the book, from the project's table of runs (`banding_lib.config.RUNS`), with its
# training settings at this book's profile (`banding_lib.config.resolve`):

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu

# %% tags=["remove-input"]
import pandas as pd

from banding_lib import article, config

config.validate_params(profile=profile)
rows = []
for name, spec in config.RUNS.items():
    train = config.resolve(name, profile)["train"]
    rows.append({"run": name, "network": spec["arch"], "what it is": spec["about"], "the article found": article.found(name),
                 "seeds": len(spec["seeds"]), f"LR / weight decay ({profile})": f"{train['lr']:g} / {train['weight_decay']:g}"})
pd.DataFrame(rows).set_index("run").style  # a Styler: no cell cut short
