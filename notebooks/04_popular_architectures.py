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
seeds = [0]

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import architectures, article, config, plots, render, runner, tables, verdict

config.validate_params(profile=profile, seeds=seeds, results_root=results_root)
render.use_offline_renderer("static")
runs = runner.load(config.ARCHITECTURES, profile, seeds, results_root)
cfg = runs["googlenet_baseline", seeds[0]].config
shapes = {arch: architectures.last_map_shape(runs[f"{arch}_baseline", seeds[0]].model(), cfg["model"]["in_size"])
          for arch in ("googlenet", "resnet50", "vgg19")}
display(Markdown(
    f"**Scale of this profile (`{profile}`).** Inputs {cfg['model']['in_size']} px (the article: 224), every channel "
    f"count x{cfg['model']['width']}, {cfg['train']['steps'] or cfg['train']['epochs']} "
    f"{'steps' if cfg['train']['steps'] else 'epochs'} of batch {cfg['train']['batch_size']} on "
    f"`{cfg['data']['dataset']}`. The last maps are therefore "
    + ", ".join(f"{a} {c}x{h}x{w}" for a, (c, h, w) in shapes.items())
    + " (the article: 7x7)"
    + (". To keep a real last map at this input size the stem's first max pool is replaced by an identity "
       "(`stem_pool=False`: " + ", ".join(f"{a} `{architectures.STEM_POOLS[a]}`" for a in shapes)
       + "), which halves the total stride" if not cfg["model"].get("stem_pool", True) else "")
    + ". Structures are torchvision's; torchvision's InceptionV1 uses a 3x3 conv where the "
    "original mixed5b branch has 5x5. Peak LR: "
    + ", ".join(f"{a} {runs[f'{a}_baseline', seeds[0]].config['train']['lr']:g}" for a in shapes)
    + " (plain VGG19, without batch norm, learns nothing at the others' LR: `config.LR_SCALE`)."
    + " Weight decay / conv init scale per architecture (`config.SMALL_DATA_RECIPE`, each chosen on one seed-0 run): "
    + ", ".join(f"{a} {runs[f'{a}_baseline', seeds[0]].config['train']['weight_decay']:g} / "
                f"x{runs[f'{a}_baseline', seeds[0]].config['model'].get('init_scale', 1.0):g}" for a in shapes)
    + f" (on the cpu profile, the simplified net's weight decay {config.PROFILES['cpu'].weight_decay:g} stopped GoogLeNet and VGG19 from learning)."
    + "".join(f" **For {a} the last map is 1x1, so removing global pooling changes nothing at this scale: its "
              f"'flatten' run is the baseline again** (final weights of every tracked layer identical: "
              f"{all(bool((x == runs[f'{a}_flatten', seeds[0]].weights[l]).all()) for l, x in runs[f'{a}_baseline', seeds[0]].weights.items())})."
              for a, (c, h, w) in shapes.items() if h * w == 1)))

# %% tags=["hide-input"]
def grids(arch, layer):
    for variant in ("baseline", "rotated", "flatten"):
        run = runs[f"{arch}_{variant}", seeds[0]]
        display(plots.layer_grid(run.weights[layer], title=f"{arch} {variant}, {layer} (val. accuracy "
                                                          f"{run.metrics['final']['val_top1']:.2f})", columns=32, pixel=4))


verdicts = verdict.table(runs)
display(Markdown(verdict.lines(verdicts)))


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
layers = ["inception5b.branch3.1", "layer4.2.conv2", "features.32", "features.34"]
frame = tables.scores_frame(list(runs.values()), layers)
rows = tables.score_rows(frame, list(runs.values()), "04_popular_architectures")
tables.record(rows)
display(tables.score_table(frame))
plots.score_chart(frame[frame.kind.isin(["NMF", "article"])], title="Retrained architectures: NMF pictures vs the article")

# %% tags=["hide-input"]
lines = []
for arch, layer in (("googlenet", "inception5b.branch3.1"), ("resnet50", "layer4.2.conv2"), ("vgg19", "features.34")):
    for variant in ("baseline", "rotated", "flatten"):
        f = frame[(frame.preset == f"{arch}_{variant}") & (frame.layer == layer) & (frame.kind == "NMF")]
        r, c = f.row.mean(), f.col.mean()
        a = article.ARTICLE_SHARES[f"{arch}_{variant}", layer]
        run = runs[f"{arch}_{variant}", seeds[0]]
        acc, chance = run.metrics["final"]["val_top1"], 1 / run.metrics["num_classes"]
        failed = (f" **— this run did not learn (val. accuracy {acc:.2f}, chance {chance:.2f}): its weights say "
                  "nothing about banding**" if not article.learned(acc, run.metrics["num_classes"])
                  else f" (val. accuracy {acc:.2f})")
        lines.append(f"- {arch} {variant}: {r:.2f} / {c:.2f}, *{article.verdict(r, c)}* (article {a[0]:.2f} / {a[1]:.2f}, "
                     f"*{article.verdict(*a)}*){failed}")
display(Markdown("**Figures 9–11, claim by claim** (how each is graded: [the verdict page](00_verdict)):\n\n" + "\n".join(
    f"- **{g}**: {says} — ours {ours}, article {art}" for says, ours, art, g in
    zip(verdicts["the article"], verdicts["ours row / col"], verdicts["article row / col"], verdicts.grade))))
display(Markdown("**Findings** (row / column share of the NMF pictures):\n\n" + "\n".join(lines)))
vgg = frame[(frame.preset == "vgg19_flatten") & (frame.layer == "features.34") & (frame.kind == "NMF")]
vgg_acc = runs["vgg19_flatten", seeds[0]].metrics["final"]["val_top1"]
display(Markdown(f"(VGG19 without pooling reached val. accuracy {vgg_acc:.2f}.) " + 
    f"The article found VGG19 still banded after removing pooling ({article.ARTICLE_SHARES['vgg19_flatten', 'features.34'][0]:.2f} "
    f"/ {article.ARTICLE_SHARES['vgg19_flatten', 'features.34'][1]:.2f}) and suspected a bug. Here VGG19 without global "
    f"pooling scores {vgg.row.mean():.2f} / {vgg.col.mean():.2f}: *{article.verdict(vgg.row.mean(), vgg.col.mean())}*."))
