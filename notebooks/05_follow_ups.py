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
# # Follow-ups: what the article proposed and never ran, and banding as a number
#
# The article ends with experiments it did not run: pooling along x and along y together before the
# fully connected layer, and random rotations of the input as a regularizer. We run both, add random
# vertical flips, and put a banding score with confidence intervals beside every number the article's
# figures give. Last, we watch banding appear over training.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results
seeds = [0, 1, 2]  # seeds of baseline, rotated and flatten; the follow-ups use seed 0

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import article, config, plots, render, runner, tables

config.validate_params(profile=profile, seeds=seeds, results_root=results_root)
render.use_offline_renderer("static")
runs = runner.load(["baseline", "rotated", "flatten"], profile, seeds, results_root)
runs |= runner.load(config.SIMPLIFIED, profile, [seeds[0]], results_root)
first = {p: runs[p, seeds[0]] for p in config.SIMPLIFIED}


def scores(preset, layer="block5.b"):
    f = tables.scores_frame([r for (p, s), r in runs.items() if p == preset], [layer], kinds=("NMF", "dW"), article=False)
    return f[f.kind == "NMF"].row.mean(), f[f.kind == "NMF"].col.mean(), f[f.kind == "dW"].row.mean(), f[f.kind == "dW"].col.mean()


def line(preset, layer="block5.b"):
    r, c, dr, dc = scores(preset, layer)
    return f"`{preset}` {layer}: NMF pictures {r:.2f} / {c:.2f}, W − W_init {dr:.2f} / {dc:.2f} — *{article.verdict(r, c)}*"


# %% [markdown]
# ## x-pooling and y-pooling together
#
# The article's hypothesis: banding keeps vertical position that GAP destroys. In the article, with
# x-pooling alone the network kept the y position and 5b lost its bands (at this book's scale it did not:
# see figure 8 on the previous page). Adding y-pooled features gives the FC layer both
# marginals. If the hypothesis holds, 5b should not band (the y information is already kept by the head).

# %% tags=["hide-input"]
display(plots.layer_grid(first["xy_pool"].weights["block5.b"], title="x- and y-pooling together, 5b"))
display(Markdown("  \n".join(line(p) for p in ("baseline", "x_pool", "xy_pool"))))

# %% [markdown]
# ## Random rotations and random vertical flips
#
# If the bands encode "up" and "down", images rotated by a random angle (any of 360 degrees) or flipped
# upside down half the time carry no consistent vertical direction, and the bands should weaken.

# %% tags=["hide-input"]
display(plots.layer_grid(first["random_rotation"].weights["block5.b"], title="Random rotation, 5b"))
display(plots.layer_grid(first["vflip"].weights["block5.b"], title="Random vertical flips, 5b"))
display(Markdown("  \n".join(line(p) for p in ("baseline", "random_rotation", "vflip"))))

# %% [markdown]
# ## The follow-ups, scored
#
# One row per run and layer: the baseline and the three follow-ups. `NMF` is the score of the reduced pictures
# (comparable with the article's pictures), `W` and `dW` the raw weights and the weights minus their
# initialization; for the baseline, one row per seed. The article's interventions are scored on
# [Interventions](03_interventions).

# %% tags=["hide-input"]
shown = [r for (p, s), r in runs.items() if p in ("baseline", *config.FOLLOW_UPS)]
frame = tables.scores_frame(shown, ["block5.a", "block5.b"])
tables.record(tables.score_rows(frame, shown, "05_follow_ups"))
display(tables.score_table(frame))
plots.score_chart(frame[frame.layer == "block5.b"], title="5b, the baseline and the follow-ups: row and column share")

# %% [markdown]
# ## Banding over training
#
# Row (solid) and column (dashed) share of 5b's raw weights, recorded during training, with the loss and
# the accuracy on a validation subset.

# %% tags=["hide-input"]
plots.training_curves([runs[p, s] for p in ("baseline", "rotated", "flatten") for s in seeds], layer="block5.b", kind="W")

# %% tags=["hide-input"]
hist = runs["baseline", seeds[0]].metrics["history"]
start = hist[0]["banding"]["block5.b"]["W"]
end = hist[-1]["banding"]["block5.b"]["W"]
half = next(h["step"] for h in hist if h["banding"]["block5.b"]["W"]["row"] - start["row"] >= (end["row"] - start["row"]) / 2)
display(Markdown(
    f"**Finding.** In the baseline (seed {seeds[0]}) the row share of 5b's raw weights went from {start['row']:.2f} "
    f"at step {hist[0]['step']} to {end['row']:.2f} at step {hist[-1]['step']} (column share {start['col']:.2f} → "
    f"{end['col']:.2f}); half of that rise was reached by step {half}."))

# %% [markdown]
# How banding depends on the number of training steps (and on width, depth, kernel size, input size and
# augmentation) is measured on the appendix page [How much training does banding need?](06_scale).
