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

from banding_lib import article, config, findings, plots, reduce, render, runner, scores, tables, verdict

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
frame = scores.load(profile)
verdicts = verdict.table(frame)
runs = {p: run for (p, _), run in runner.load(config.ARCHITECTURES, profile, [0], results_root).items()}
display(Markdown(findings.arch_scale(runs, profile)))


# %% tags=["hide-input"]
def grids(arch, layer):
    for variant in ("baseline", "rotated", "flatten"):
        run = runs[f"{arch}_{variant}"]
        display(plots.layer_grid(reduce.reduction(run.weights[layer]), title=f"{arch} {variant}, {layer} (val. accuracy "
                                 f"{run.metrics['final']['val_top1']:.2f})", columns=32, pixel=4))


display(Markdown(verdict.lines(verdicts[verdicts.figure.isin(["9", "10", "11"])])))


# %% [markdown]
# ## Figure 9: googlenet, `inception5b.branch3.1`
#
# The same layer of googlenet retrained three ways (baseline, inputs rotated 90°, global pooling removed), one
# tile per neuron (its kernel reduced to an RGB picture as in figure 5), with the run's validation accuracy.

# %% tags=["hide-input"]
grids("googlenet", "inception5b.branch3.1")

# %% [markdown]
# ## Figure 10: resnet50, `layer4.2.conv2`
#
# The same layer of resnet50 retrained three ways (baseline, inputs rotated 90°, global pooling removed), one
# tile per neuron (its kernel reduced to an RGB picture as in figure 5), with the run's validation accuracy.

# %% tags=["hide-input"]
grids("resnet50", "layer4.2.conv2")

# %% [markdown]
# ## Figure 11: vgg19, `features.34`
#
# The same layer of vgg19 retrained three ways (baseline, inputs rotated 90°, global pooling removed), one
# tile per neuron (its kernel reduced to an RGB picture as in figure 5), with the run's validation accuracy.

# %% tags=["hide-input"]
grids("vgg19", "features.34")

# %% [markdown]
# ## The numbers beside the article's

# %% tags=["hide-input"]
shown = tables.shown(frame, config.ARCHITECTURES, ["inception5b.branch3.1", "layer4.2.conv2", "features.32", "features.34"])
display(tables.score_table(shown))
plots.score_chart(shown[shown.kind.isin(["NMF", "article"])], title="Retrained architectures: NMF pictures vs the article")

# %% tags=["hide-input"]
display(Markdown(findings.architectures(frame, verdicts[verdicts.figure.isin(["9", "10", "11"])])))
display(Markdown(findings.vgg_flatten(frame)))
