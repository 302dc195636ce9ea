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
# # Appendix: how the profile was chosen, and how much training banding needs (a scale study)
#
# The article trained its simplified network on ImageNet at 224 px for 90 epochs on 8 GPUs and never said
# how much of that banding needs. **How this book's `cpu` profile was chosen, fixed before any run**: by the
# baseline's validation accuracy at a fixed CPU budget, on seed 0, never by its bands (a network that barely
# learns can be made to band by strong weight decay, and then every head bands, GAP or not); then confirmed
# on seeds 1 and 2. The recipe search below lists every candidate tried. The scale study after it trains the
# baseline and its no-GAP control side by side at a quarter, half, all and twice the profile's steps
# (`banding_lib.config.STUDY`; `python -m banding_lib train study --jobs 2` trains them). Its other points (weight
# decay, depth, kernel size, width, input size, augmentation, the earlier weight decay 2e-2 and a repeat on two
# threads; `config.CUT_POINTS`) were cut to keep a from-scratch book within its time budget; earlier builds of
# this book measured them.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, findings, plots, render, scores, study, tables

config.validate_params(profile=profile)
render.use_offline_renderer("static")
every = scores.load(profile)
frame = study.frame(every, profile)
measured = (f"measured on {', '.join(sorted(set(every.cpu.dropna())))} in {', '.join(sorted(set(every.precision.dropna())))}"
            if "cpu" in every else "")
SMALL = [{"selector": "", "props": "font-size: 0.8em"}]  # wide tables: within the text column

# %% [markdown]
# ## The recipe search (cpu profile)

# %% tags=["hide-input"]
search = study.recipe_search()
if search is None:
    display(Markdown("The recipe search's table (`benchmarks/recipe_search.json`) is not in this checkout."))
else:
    display(Markdown(f"{search['rule']}\n\nMeasured on {search['cpu']['model']} (one thread a run, two runs at a "
                     f"time); budget {search['budget_cpu_min']:g} CPU-minutes a run; chosen: **{search['winner']}**."))
    display(search["table"].style.format(precision=3).set_table_styles(SMALL))  # a Styler: no cell cut short

# %% [markdown]
# ## The architectures' recipe search (cpu profile)
#
# Figures 9–11 retrain GoogLeNet, ResNet50 and VGG19; each got its own recipe by the same kind of rule, written
# down before any of its runs (and amended twice for ResNet50, each time before any of the new runs, as it says):
# the band scores are listed, never read. The column `run` says whether a row is a candidate's baseline or its no-pooling check.

# %% tags=["hide-input"]
arch_search = study.arch_recipe_search()
if arch_search is None:
    display(Markdown("The architectures' recipe search (`benchmarks/arch_recipe_search.json`) is not in this checkout."))
else:
    chosen = ", ".join(f"{a}: **{w}**" for a, w in arch_search["winners"].items())
    display(Markdown(f"{arch_search['rule']}\n\nMeasured on {arch_search['cpu']['model']} (one thread a run, two runs at a time, "
                     f"{arch_search['rows'][0]['precision']}); budget {arch_search['budget_min']:g} minutes a run; "
                     f"chosen: {chosen}."))
    if "head_energy" in arch_search:  # the second amendment's measured cause
        e = arch_search["head_energy"]["resnet50"]
        display(Markdown(f"ResNet50's classifier input at initialisation (mean squared norm, 32 N(0, 1) images): "
                         f"{e['gap']:,.0f} with global pooling, {e['flatten']:,.0f} without: **{e['ratio']:.1f} times**."))
    display(arch_search["table"].drop(columns="precision").style.format(precision=3).set_table_styles(SMALL))  # said above

# %% [markdown]
# ## Banding against each varied parameter
#
# One small chart per axis of the study: the row share (blue) and column share (red) of 5b's NMF pictures, with
# 95 % bootstrap intervals over neurons, at the profile's value of that parameter (marked `*`) and at each value
# the study tried; everything else is the profile. *training steps* are the GAP runs at the profile's weight
# decay. The dashed line is the score of i.i.d. noise for the kernel size. Hover a point for the run, its
# validation accuracy and the minutes of one CPU thread it trained for (two runs shared the machine's two cores).
# Every run's numbers, GPU-time estimate included, are in the table below.

# %% tags=["hide-input"]
by_axis = study.axes(frame, profile)
display(plots.axes_chart(by_axis, layer="block5.b", title="Scale study, 5b: banding against each varied parameter"))
display(plots.axes_chart(by_axis, layer="block5.a", title="Scale study, 5a: banding against each varied parameter"))
display(tables.scores_link(what="these charts (the rows with a study label)"))

# %% [markdown]
# ## The GAP effect over training
#
# The article's causal claim (figure 7) compares a network ending in global average pooling with one whose
# classifier sees the whole last map. The study trains both side by side at a quarter, half, all and twice the
# profile's steps. Does the no-GAP control band early and lose it as it learns, at what accuracy does GAP start to
# matter, and how much does banding still grow with more training? Left: 5b's row / column ratio (log; 95 % bootstrap interval over
# neurons) against steps; right: the same against validation accuracy. The dashed line is ratio 1.

# %% tags=["hide-input"]
gap_over_training = study.contrast(frame)
plots.contrast_chart(gap_over_training, title="GAP vs no GAP: 5b's row/col ratio as the networks learn")

# %% tags=["hide-input"]
display(Markdown(study.contrast_finding(gap_over_training)))

# %% [markdown]
# ## Every run
#
# `row` / `col`: mean share of each 5b picture's variance explained by its row means / column means, with
# the 95 % interval; `val. acc.`: top-1 on the whole validation split of the profile's photo set.

# %% tags=["hide-input"]
if measured:
    display(Markdown(f"`CPU-min`: minutes of one CPU thread, two runs at a time, {measured}; `GPU-s (est.)`: the "
                     "run's training FLOPs divided by an assumed GPU speed (`study.GPU_FLOPS`), an estimate, not a measurement."))
display(study.table(frame).style.format(precision=3).set_table_styles(SMALL))

# %% [markdown]
# ## What the study says
#
# Each axis against the profile (5b, NMF pictures, row / column share; validation accuracy in brackets):

# %% tags=["hide-input"]
display(Markdown(findings.study_summary(frame)))
