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
# # Browse every run
#
# The article's appendix lets a reader browse the weights of each of its experiments. Here every run of this book
# (each seed, each layer the book scores: the simplified net's 5a and 5b, the architectures' layers of figures 9–11)
# and the article's own published panels: pick a run and a layer, see all its neurons in similarity order with the
# layer's row / column share, click a neuron (or move the slider, which walks through the grid's order) to see it
# enlarged with its three spatial factors (its picture's red, green and blue) and its own shares. The page needs no
# kernel: it works in the published book.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import HTML, Markdown, display

from banding_lib import config, explorer, panels, reduce, runner

config.validate_params(profile=profile, results_root=results_root)
loaded = runner.load(list(config.RUNS), profile, None, results_root)
LAYERS = ("block5.b", "block5.a")  # the simplified net's, the figure's layer first; an architecture's: all it tracks


def layers(run):
    if run.config["arch"] != "simplified":
        return list(run.weights)
    return [layer for layer in LAYERS if layer in run.weights]


def about(preset, run):
    return f"{config.RUNS[preset]['about']}; val. accuracy {run.metrics['final']['val_top1']:.2f}"


runs = {f"{preset} · seed {seed}": {layer: explorer.entry(reduce.reduction(run.weights[layer]), about(preset, run))
                                    for layer in layers(run)} for (preset, seed), run in loaded.items()}
theirs = {}
for run, layer in panels.PANELS:
    theirs.setdefault(f"article: {run}", {})[layer] = explorer.entry(panels.reduction(run, layer), "the article's panel")
page = explorer.explorer_html({**runs, **theirs}, first=next(k for k in runs if k.startswith("baseline ·")))
display(HTML(page))
display(Markdown(f"{len(runs)} trained networks of this book (every run, every seed; {sum(len(v) for v in runs.values())} "
                 f"layers) and the article's panels of {len(theirs)} experiments; the explorer's data weighs "
                 f"{len(page.encode()) / 1e6:.2f} MB. "
                 f"*Entries headed \"article\": {panels.CREDIT}.*"))
