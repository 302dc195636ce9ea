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
# # Discovery: banding in ImageNet models (figures 1–3)
#
# The article noticed that the last conv layer of InceptionV1 looks different from every other: its
# kernels vary along y and hardly along x. It then found the same "weight banding" in ResNet50 and VGG19,
# but not in AlexNet's conv5, whose fully connected fc6 sees the 6x6 map directly.
#
# The pretrained weights come from torchvision (downloaded once into the torch hub cache; the publishing
# workflow builds this page online). On a machine with no internet and no cached copy, each figure shows **the
# article's own published panel of that layer** instead (its figure data, CC-BY 4.0, kept in this repository's
# `article-figures/`), scored by this book's metric; the note below says which this page shows. After figure 2,
# the same layers of this book's own GoogLeNet, ResNet50 and VGG19, retrained from scratch on small photos
# ([Popular architectures](04_popular_architectures)), stand beside the article's pictures: never as stand-ins
# for the pretrained models.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu (the retrained baselines beside figure 2)
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
import functools

from IPython.display import Markdown, display

from banding_lib import article, config, panels, plots, pretrained, reduce, render, runner, scores
from banding_lib.layers import ARTICLE, layer_weight

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
model = functools.cache(pretrained.quietly)  # torchvision's pretrained model, or None offline
PANEL = {arch: layer.panel for arch, layer in ARTICLE.items()}  # the layers of the article's model-zoo panels
found_scores = scores.load_beside("pretrained.csv", profile).set_index(["arch", "kind"])  # the scores step's


def picture(arch):
    """(reduced pictures, layer, label) of the layer the scores step scored for `arch` (pretrained.csv): of
    torchvision's pretrained model where it had one, else the article's own published panel of that layer."""
    s = found_scores.loc[(arch, "NMF")]
    if s.source == "torchvision":
        return reduce.reduction(layer_weight(model(arch), s.layer)), s.layer, f"pretrained {arch} (torchvision, ImageNet)"
    return panels.reduction(f"{arch}_pretrained", s.layer), s.layer, "the article's published panel, CC-BY 4.0"


# %% tags=["hide-input"]
offline = [arch for arch in PANEL if model(arch) is None]
display(Markdown(
    "**Built with torchvision's pretrained ImageNet weights.**" if not offline else
    f"**Built offline: no pretrained weights for {', '.join(offline)}.** Their figures below show the article's "
    f"own published panels of the same layers ({panels.CREDIT}), scored by this book's metric. `make book` on a "
    "machine with internet draws torchvision's pretrained models themselves, and the layers the article names "
    "but did not publish (mixed3a, AlexNet's fc6)."))

# %% [markdown]
# (figure-1)=
# ## Figure 1: a typical layer next to the last one (InceptionV1)
#
# mixed3a (a typical layer) beside mixed5b's 5x5 branch (torchvision's `inception5b.branch3.1`: **torchvision's
# InceptionV1 uses a 3x3 conv there where the original has 5x5**). For mixed3a the page takes the same branch,
# `inception3a.branch3.1`, where it has at least 16 neurons to look at; a thinned network has fewer there, and
# then mixed3a's 3x3 branch (`inception3a.branch2.1`, four times wider) is drawn instead, as the note under the
# grids says.

# %% tags=["hide-input"]
mixed5b, _, g_label = picture("googlenet")
if model("googlenet") is not None:
    TYPICAL = ARTICLE["googlenet"].typical  # mixed3a's 5x5 branch
    display(plots.layer_grid(reduce.reduction(layer_weight(model("googlenet"), TYPICAL)),
                             title=f"mixed3a ({TYPICAL}) — {g_label}", columns=32, pixel=4))
else:
    display(Markdown("*mixed3a, the article's typical layer, needs the pretrained weights (the article published "
                     "no panel of it).*"))
display(plots.layer_grid(mixed5b, title=f"mixed5b (3x3 in torchvision, 5x5 in the article) — {g_label}",
                         columns=32, pixel=4))

# %% [markdown]
# ## Figure 2: ResNet50 and VGG19

# %% tags=["hide-input"]
for arch in ("resnet50", "vgg19"):
    red, layer, label = picture(arch)
    display(plots.layer_grid(red, title=f"{arch} {layer} — {label}", columns=32, pixel=4))

# %% tags=["hide-input"]
lines = []
for arch in article.ARCH_LAYERS:  # the architectures the article retrained
    s = found_scores.loc[(arch, "NMF")]
    source = "pretrained, torchvision" if s.source == "torchvision" else "the article's published panel"
    lines.append(f"- {arch} `{s.layer}` ({source}): row {s.row:.2f} "
                 f"[{s.row_lo:.2f}, {s.row_hi:.2f}], column {s.col:.2f} — *{article.verdict(s.row, s.col)}*")
display(Markdown("**Scores of the pictures above** (this book's metric; i.i.d. noise: row = column = the null share "
                 "of the kernel size, 0.25 for 3x3, 0.17 for 5x5):\n\n" + "\n".join(lines)))

# %% [markdown]
# ## The same layers retrained here
#
# The article's pictures of the pretrained layers beside the same layers of this book's retrained baselines (seed
# 0; trained from scratch on Imagenette at 56 px, thinned: a different training from ImageNet's, shown for the
# shape of their kernels, not as copies). VGG19's picture is conv5_3 (`features.32`), the layer the article drew.

# %% tags=["hide-input"]
retrained = {p: run for (p, _), run in runner.load([f"{a}_baseline" for a in article.ARCH_LAYERS], profile, [0], results_root).items()}
for arch in article.ARCH_LAYERS:
    run = retrained[f"{arch}_baseline"]
    display(plots.side_by_side({f"article: pretrained {arch}": panels.reduction(f"{arch}_pretrained", PANEL[arch]),
                                f"this book: retrained {arch} (val. {run.metrics['final']['val_top1']:.2f})":
                                    reduce.reduction(run.weights[PANEL[arch]])}, columns=2, title=f"{arch}, {PANEL[arch]}"))
display(Markdown(f"*Panels headed \"article\": {panels.CREDIT}; every panel scored by this book's metric.*"))

# %% [markdown]
# (figure-3)=
# ## Figure 3: AlexNet — conv5, and fc6 by position
#
# AlexNet has no global pooling: fc6 takes the whole 6x6x256 map. The article says conv5 is not banded and
# that fc6's weights vary with the global y position instead; it never drew the latter. Below, conv5, and
# fc6's weight energy per input row (each fc6 neuron's weights viewed as (256, 6, 6)).

# %% tags=["hide-input"]
conv5, _, a_label = picture("alexnet")
display(plots.layer_grid(conv5, title=f"AlexNet conv5 — {a_label}", columns=32, pixel=4))
s5 = found_scores.loc[("alexnet", "NMF")]
art = article.article_shares()["alexnet_pretrained", PANEL["alexnet"]]
text = f"conv5 pictures: row {s5.row:.2f}, column {s5.col:.2f} (the article's own reading {art[0]:.2f} / {art[1]:.2f})"
if model("alexnet") is not None:
    fc6 = pretrained.fc6_by_position(model("alexnet"))
    display(plots.position_profile_chart(pretrained.position_profile(fc6), title="AlexNet fc6: weight energy per input row y"))
    s6 = found_scores.loc[("alexnet", "W by position")]
    text += f"; fc6 as 6x6 kernels: row {s6.row:.2f}, column {s6.col:.2f} (null {s6.null:.2f})"
else:
    text += "; fc6 by position needs the pretrained weights (the article never drew it)"
display(Markdown(text + "."))

# %% [markdown]
# ## Open up any ImageNet conv net
#
# `python -m banding_lib scan MODEL` prints the banding score of every conv layer. For the model of figure 1:

# %% tags=["hide-input"]
scanned = scores.load_beside("scan.csv", profile)  # the scores step's scan of pretrained GoogLeNet
if len(scanned):
    print(pretrained.format_scan(scanned.to_dict("records")))
else:
    display(Markdown("*This build had no pretrained weights: `python -m banding_lib scan googlenet` prints the table on a "
                     "machine that has them (online, or with the file in the torch hub cache).*"))
