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
# # Appendix: how much training does banding need? (a scale study)
#
# The article trained its simplified network on ImageNet at 224 px for 90 epochs on 8 GPUs and never said
# how much of that banding needs. This page varies one thing at a time around the book's `cpu` profile:
# weight decay, training steps, depth (the article's twelve layers against a shortened net that keeps 0a, the
# L2 pools, 5a, 5b, GAP and the FC), kernel size, width, input size, augmentation strength and conv init, and
# scores the baseline's 5a and 5b after each run (seed 0). The profile itself was chosen from an earlier,
# rougher sweep of the same axes on seed 0 (in the project's closing notes), then confirmed on seeds 1 and 2;
# this page measures it again from scratch (`banding_lib.config.STUDY` lists every run;
# `python -m banding_lib train study --jobs 2` trains them).

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, metrics, plots, render, study, tables

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
frame = study.frame(profile, results_root)

# %% [markdown]
# ## Banding against training cost
#
# One point per run: the row share (filled circles) and column share (open squares) of the NMF pictures of 5b, with 95 %
# bootstrap intervals over neurons, against the minutes of one CPU thread the run trained for (two runs
# shared the two cores of the machine). Hover for the run, its validation accuracy and an estimated
# GPU time (training FLOPs counted by torch, divided by an assumed 100 TFLOP/s; not measured). The dashed
# line is the score of i.i.d. noise for the kernel size (0.17 for 5x5, 0.25 for 3x3).

# %% tags=["hide-input"]
plots.study_chart(frame, layer="block5.b", title="Scale study: banding of 5b against CPU-minutes")

# %% tags=["hide-input"]
plots.study_chart(frame, layer="block5.a", title="Scale study: banding of 5a against CPU-minutes")

# %% [markdown]
# ## Every run
#
# `row` / `col`: mean share of each 5b picture's variance explained by its row means / column means, with
# the 95 % interval; `val. acc.`: top-1 on the whole validation split of the profile's photo set.

# %% tags=["hide-input"]
display(study.table(frame))

# %% tags=["hide-input"]
pd_rows = frame.assign(page="06_scale", run=frame["preset"] + " · " + frame["label"], kind="NMF",
                       profile=profile)
_ = tables.record(pd_rows[tables.COLUMNS])

# %% [markdown]
# ## What the study says
#
# Each axis against the profile (5b, NMF pictures, row / column share; validation accuracy in brackets):

# %% tags=["hide-input"]
b = frame[frame.layer == "block5.b"]
ref = b[b.axis == "the profile"].iloc[0]
lines = [f"- **the profile**: {ref.row:.2f} / {ref.col:.2f} ({ref.val_top1:.2f}) in {ref.cpu_min:.1f} CPU-minutes"]
for axis, group in b[b.axis != "the profile"].groupby("axis", sort=False):
    lines.append(f"- **{axis}**: " + "; ".join(f"{r.label} {r.row:.2f} / {r.col:.2f} ({r.val_top1:.2f}, "
                                              f"{r.cpu_min:.1f} min)" for r in group.itertuples()))
strongest = b.loc[b.row.idxmax()]
display(Markdown("\n".join(lines) + f"\n\nMost banded 5b of the study: *{strongest.label}*, {strongest.row:.2f} / "
                 f"{strongest.col:.2f} (val. accuracy {strongest.val_top1:.2f})."))
