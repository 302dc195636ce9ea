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
# # Appendix: why GAP bands — the position information each network keeps
#
# The article explains banding as "a learned way to preserve spatial information as it gets lost through
# various pooling operations", vertical position in particular, and never measured it. Every trained network of
# this book can be asked directly. **Method** (`banding_lib.probe`): each of 500 validation photos (the same for
# every run), shrunk to 3/4 of the input size, is placed at one of 5 vertical positions, and separately 5
# horizontal positions, on a canvas of the photo set's mean colour; the features the classifier sees (5b after
# the head's pooling) are read out, and a linear probe (logistic regression on standardized features) is fitted
# on the placements of one half of the photos and scored on the other half (chance 0.2; 95 % bootstrap interval
# over test photos). Nulls: the same networks at their random init (batch-norm statistics recalibrated on the
# probe photos), and the network trained with random vertical flips. Islam, Jia & Bruce (ICLR 2020) and Islam,
# Kowal et al. (ICCV 2021) read position out of frozen CNN features the same way.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, findings, plots, render, scores, tables

config.validate_params(profile=profile)
render.use_offline_renderer("static")
table = tables.probe_table(scores.load(profile), scores.load_probes(profile))
table = table[~table.preset.isin(config.SECOND_SET)]  # Imagenette's runs (the second photo set: page 05)
display(Markdown(findings.probe(table)))

# %% tags=["hide-input"]
plots.probe_chart(table, title="Banding of 5b against the vertical position its features keep")

# %% [markdown]
# ## Every run probed
#
# `vertical` / `horizontal`: probe accuracy [95 % interval] on the classifier's features; `row / col`: 5b's NMF
# pictures (the trained weights, also for the init rows, which probe the same run at its random init). Every
# number of this page: <a href="probe.csv">probe.csv</a> (one row per run, weights, axis and feature set).

# %% tags=["hide-input"]
ci = lambda v, lo, hi: f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
shown = table.assign(**{"5b row / col": [f"{r:.2f} / {c:.2f}" for r, c in zip(table.row, table.col)],
                        "vertical": [ci(*v) for v in zip(table.accuracy_y, table.lo_y, table.hi_y)],
                        "horizontal": [ci(*v) for v in zip(table.accuracy_x, table.lo_x, table.hi_x)],
                        "vertical − horizontal": table.v_minus_h.round(3)})
display(shown[["preset", "seed", "weights", "5b row / col", "vertical", "horizontal", "vertical − horizontal"]]
        .style.hide(axis="index").format({"vertical − horizontal": "{:+.3f}"}))
