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
# workflow builds this page online). On a machine with no internet and no cached copy, each figure falls back
# to **this project's own baseline of that architecture, retrained at the book's profile**, and says so in its
# title; the note below says which this page shows.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu: the scale of the fallback runs
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
import functools

from IPython.display import Markdown, display

from banding_lib import article, config, metrics, plots, pretrained, reduce, render
from banding_lib.layers import layer_weight

config.validate_params(profile=profile, results_root=results_root)
render.use_offline_renderer("static")
model = functools.cache(lambda arch: pretrained.or_retrained(arch, profile, results_root))
reduced = lambda arch, layer: reduce.reduction(layer_weight(model(arch)[0], layer))


# %% tags=["hide-input"]
offline = [arch for arch in ("googlenet", "resnet50", "vgg19", "alexnet") if pretrained.quietly(arch) is None]
display(Markdown(
    "**Built with torchvision's pretrained ImageNet weights.**" if not offline else
    f"**Built offline: no pretrained weights for {', '.join(offline)}.** Figures 1 and 2 below show this project's "
    f"own networks of the same architectures, retrained at the `{profile}` profile (small photos, thin networks), "
    "in place of the article's pretrained ImageNet models; figure 3 needs AlexNet's pretrained weights (this "
    "project does not retrain AlexNet). `make book` on a machine with internet draws the pretrained models."))

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
g_label = model("googlenet")[1]
TYPICAL = ("inception3a.branch3.1", "inception3a.branch2.1")  # mixed3a's 5x5 branch, else its 3x3 branch
MIN_NEURONS = 16  # fewer tiles than this show nothing of a layer
typical = next((layer for layer in TYPICAL if len(reduced("googlenet", layer).pictures) >= MIN_NEURONS), TYPICAL[-1])
display(plots.layer_grid(reduced("googlenet", typical), title=f"mixed3a ({typical}) — {g_label}", columns=32, pixel=4))
display(plots.layer_grid(reduced("googlenet", "inception5b.branch3.1"), title=f"mixed5b (3x3 in torchvision) — {g_label}",
                         columns=32, pixel=4))
sizes = {layer: len(reduced("googlenet", layer).pictures) for layer in TYPICAL}
display(Markdown(f"mixed3a drawn from `{typical}` ({sizes[typical]} neurons)"
                 + ("." if typical == TYPICAL[0] else f": `{TYPICAL[0]}` has only {sizes[TYPICAL[0]]} neurons in this "
                    f"network, fewer than {MIN_NEURONS}.")))

# %% [markdown]
# ## Figure 2: ResNet50 and VGG19

# %% tags=["hide-input"]
found = {"googlenet": "inception5b.branch3.1", "resnet50": "layer4.2.conv2", "vgg19": "features.34"}
for arch in ("resnet50", "vgg19"):
    display(plots.layer_grid(reduced(arch, found[arch]), title=f"{arch} {found[arch]} — {model(arch)[1]}", columns=32, pixel=4))

# %% tags=["hide-input"]
lines = []
for arch, layer in found.items():
    s = reduced(arch, layer).score
    lines.append(f"- {arch} `{layer}` ({model(arch)[1]}): row {s.row:.2f} [{s.row_lo:.2f}, {s.row_hi:.2f}], column "
                 f"{s.col:.2f} — *{article.verdict(s.row, s.col)}*")
art = article.article_shares()["googlenet_pretrained", "inception5b.branch3.1"]
display(Markdown("**Scores of the NMF pictures above** (noise: row = column = null share of the kernel size):\n\n"
                 + "\n".join(lines) + f"\n\nThe article's pretrained InceptionV1 mixed5b scores {art[0]:.2f} / "
                 f"{art[1]:.2f} on its published pictures."))

# %% [markdown]
# (figure-3)=
# ## Figure 3: AlexNet — conv5, and fc6 by position
#
# AlexNet has no global pooling: fc6 takes the whole 6x6x256 map. The article says conv5 is not banded and
# that fc6's weights vary with the global y position instead; it never drew the latter. Below, conv5, and
# fc6's weight energy per input row (each fc6 neuron's weights viewed as (256, 6, 6)).

# %% tags=["hide-input"]
alexnet, a_label = model("alexnet")
if alexnet is None:
    display(Markdown(f"**AlexNet is not available here** ({a_label}): this project does not retrain AlexNet, so "
                     "figure 3 needs the pretrained weights (run this notebook on a machine with internet, or put "
                     "`alexnet-owt-7be5be79.pth` in the torch hub cache)."))
else:
    display(plots.layer_grid(reduced("alexnet", "features.10"), title=f"AlexNet conv5 — {a_label}", columns=32, pixel=4))
    fc6 = pretrained.fc6_by_position(alexnet)
    display(plots.position_profile_chart(pretrained.position_profile(fc6), title="AlexNet fc6: weight energy per input row y"))
    s5, s6 = reduced("alexnet", "features.10").score, metrics.score(fc6)
    art = article.article_shares()["alexnet_pretrained", "features.10"]
    display(Markdown(f"conv5 NMF pictures: row {s5.row:.2f}, column {s5.col:.2f} (article {art[0]:.2f} / {art[1]:.2f}); "
                     f"fc6 as 6x6 kernels: row {s6.row:.2f}, column {s6.col:.2f} (null {s6.null:.2f})."))

# %% [markdown]
# ## Open up any ImageNet conv net
#
# `python -m banding_lib scan MODEL` prints the banding score of every conv layer. For the model of figure 1:

# %% tags=["hide-input"]
if pretrained.quietly("googlenet") is not None:
    print(pretrained.format_scan(pretrained.scan(model("googlenet")[0])))
else:
    print("(run python -m banding_lib scan googlenet on a machine with the pretrained weights)")
