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
# # Popular architectures retrained (figures 9–11)
#
# The article retrained InceptionV1, ResNet50 and VGG19 from scratch three ways: as they are (global
# average pooling), on images rotated by 90 degrees, and with global pooling removed (the classifier sees
# the whole last map). Here each is built from torchvision's own definition with the intervention as a
# keyword argument (`banding_lib.architectures.torchvision_net`).

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, findings, panels, plots, reduce, render, runner, scores, tables, verdict

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
frame = scores.load(profile)
verdicts = verdict.table(frame)
runs = {p: run for (p, _), run in runner.load(config.ARCHITECTURES, profile, [0], results_root).items()}
display(Markdown(findings.arch_scale(runs, profile)))


# %% tags=["hide-input"]
VARIANTS = {"baseline": "baseline", "rotated": "rotated 90°", "flatten": "no pooling"}
reduced = lambda arch, variant, layer: reduce.reduction(runs[f"{arch}_{variant}"].weights[layer])
credit = f"*Panels headed \"article\": {panels.CREDIT}; every panel scored by this book's metric.*"


def label(arch, variant):
    """('this book: rotated 90°', 'val. 0.64, seed 0 of 2'), the seeds counted in the scores of the run."""
    preset = f"{arch}_{variant}"
    f = frame[(frame.preset == preset) & (frame.kind == "NMF")]
    return (f"this book: {VARIANTS[variant]}",
            f"val. {runs[preset].metrics['final']['val_top1']:.2f}, seed 0 of {f.seed.nunique()}")


def compare(arch, layer, figure):
    """The article's three panels over ours (seed 0, ten neurons each, one tile size), the claims' lines over every
    seed, and the link to the data behind them."""
    display(plots.side_by_side({**{f"article: {words}": panels.reduction(f"{arch}_{v}", layer) for v, words in VARIANTS.items()},
                                **{label(arch, v): reduced(arch, v, layer) for v in VARIANTS}}, title=f"{arch}, {layer}"))
    display(Markdown(credit))
    display(Markdown("  \n".join(findings.layer_line(frame, verdicts, f"{arch}_{v}", layer, figure) for v in VARIANTS)))
    display(tables.scores_link([f"{arch}_{v}" for v in VARIANTS], f"this figure ({arch})"))


def full_grids(arch, layer):
    for v, words in VARIANTS.items():
        display(plots.layer_grid(reduced(arch, v, layer), title=f"{arch} {words}, {layer}, seed 0 (every neuron, val. "
                                 f"accuracy {runs[f'{arch}_{v}'].metrics['final']['val_top1']:.2f})", columns=32, pixel=4))


display(Markdown(verdict.lines(verdicts[verdicts.figure.isin(["9", "10", "11"])])))


# %% [markdown]
# (figure-9)=
# ## Figure 9: googlenet, `inception5b.branch3.1`
#
# The same layer of googlenet retrained three ways: baseline | inputs rotated 90° | global pooling removed, the
# article's panels above ours. Ten neurons each (spread through the layer's similarity order from its most typical
# neuron; each tile a kernel reduced to an RGB picture as in figure 5), each panel with its whole layer's row /
# column share, ours with the run's validation accuracy and its seeds. The article's InceptionV1 has 5x5 kernels in
# this branch, torchvision's 3x3 (pytorch/vision#906). The full grids are a click below.

# %% tags=["hide-input"]
compare("googlenet", "inception5b.branch3.1", "Figure 9")

# %% tags=["remove-input", "hide-output"]
full_grids("googlenet", "inception5b.branch3.1")

# %% [markdown]
# (figure-10)=
# ## Figure 10: resnet50, `layer4.2.conv2`
#
# The same layer of resnet50, the same three ways, drawn the same way.

# %% tags=["hide-input"]
compare("resnet50", "layer4.2.conv2", "Figure 10")

# %% tags=["remove-input", "hide-output"]
full_grids("resnet50", "layer4.2.conv2")

# %% [markdown]
# (figure-11)=
# ## Figure 11: vgg19, `features.34`
#
# The same layer of vgg19, the same three ways, drawn the same way.

# %% tags=["hide-input"]
compare("vgg19", "features.34", "Figure 11")

# %% tags=["remove-input", "hide-output"]
full_grids("vgg19", "features.34")

# %% [markdown]
# ## The numbers beside the article's
#
# Row / column share of each retrained layer: `W` of the raw weights, `dW` of the weights minus their
# initialization (what training changed), `NMF` of the reduced pictures drawn above, `article` of the article's
# published pictures. Each chart panel holds only the runs of its layer.

# %% tags=["hide-input"]
shown = tables.shown(frame, config.ARCHITECTURES, ["inception5b.branch3.1", "layer4.2.conv2", "features.32", "features.34"])
display(tables.score_table(shown))
display(plots.score_chart(shown[shown.kind.isin(["NMF", "article"])], title="Retrained architectures: NMF pictures vs the article"))
display(tables.scores_link(config.ARCHITECTURES, "this table and chart"))

# %% tags=["hide-input"]
display(Markdown(findings.architectures(frame, verdicts[verdicts.figure.isin(["9", "10", "11"])])))
display(Markdown(findings.vgg_flatten(frame)))
