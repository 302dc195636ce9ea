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
# # The verdict: what was reproduced
#
# Each claim the article makes about a network it trained, figure by figure: the article's number (the row and
# column share of its own published pictures, where it drew them), ours (the same score of our NMF pictures,
# the mean over seeds, with the seeds' range), and a grade of its direction by a rule fixed before the runs,
# with its strength against the article beside it. **Row share**: how much of each neuron's kernel
# picture is explained by its row means, i.e. horizontal bands; **column share**: by its column means
# (vertical bands). Every number below comes from the scores step (`make scores`: one table of every score
# the book shows, <a href="scores.csv">scores.csv</a>), the same numbers as the pages that draw the figures.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu
results_root = None  # None: $BANDING_RESULTS, else ./results

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import article, config, findings, gpu_results, panels, plots, reduce, runner, scores, tables, verdict

config.validate_params(profile=profile, results_root=results_root)
frame = scores.load(profile)
verdicts = verdict.table(frame)
display(Markdown(verdict.headline(verdicts)))
display(Markdown("**Figure 7 on two photo sets** (does GAP's contrast hold, and is the banding position or content? "
                 "[Position or content?](05_follow_ups)): " + " ".join(
                     findings.position_finding(frame, name, roles) for name, roles in config.PHOTO_SETS.items())))
display(Markdown(findings.profile_line(frame, verdicts, profile)))
display(Markdown(verdict.noise(frame)))
display(Markdown(findings.grading_key()))
display(Markdown(findings.amplification(scores.load_beside("nmf_null.csv", profile))))

# %% [markdown]
# Each row: the figure (a link to its section), the claim with the run and layer it is about, a strip of four of
# that layer's neurons (seed 0, spread through the layer from its most typical neuron; the article's strip of the
# same layer above it where the article drew one; for a claim that compares two runs, the control's strip under it), the article's number above ours (mean over seeds, the seeds' range under it), the **direction** grade
# on the NMF pictures with how many seeds pass its rule (and the same rule on the raw weights where it grades
# otherwise, flagged where it disagrees), and the **strength** against the article (apart from direction) over the
# old absolute reading of the mean by the article's thresholds (row ≥ 0.75 and ≥ 3.5 x column; not a grade).

# %% tags=["hide-input"]
graded = [c for c in article.CLAIMS if f"{c.run}, {c.layer}" in set(verdicts["run, layer"])]
keys = {(c.run, c.layer) for c in graded} | {c.ref for c in graded if c.ref}
runs = {p: run for (p, _), run in runner.load(sorted({r for r, _ in keys}), profile, [0], results_root).items()}
strips = {(r, layer): plots.strip_html(reduce.reduction(runs[r].weights[layer]), count=4, label=f"{r}, {layer}")
          for r, layer in keys}
theirs = {key: plots.strip_html(panels.reduction(*key), count=4, label=f"article: {key[0]}, {key[1]}")
          for key in keys if key in panels.PANELS}
display(verdict.styled(verdicts, strips, theirs))
display(Markdown(f"*Strips headed \"article\": {panels.CREDIT}.*"))
display(tables.scores_link(what="every number on this page"))

# %% [markdown]
# Figures 1–3 (pretrained ImageNet models) are not graded here: this project trains no ImageNet model; the
# [Discovery](01_discovery) page draws torchvision's pretrained weights where it can download them, else the
# article's own pictures of those layers. Figure 4 is the architecture, drawn
# from the code that builds it. The follow-ups the article proposed but never ran have no claim to grade; their
# results are on [Follow-ups](05_follow_ups).

# %% tags=["hide-input"]
display(Markdown(gpu_results.section(level=2)))

# %% [markdown]
# ## The same grades in the other precision
#
# The rules graded again on the book's earlier build of the same runs, trained in fp32 on an AMD EPYC without bf16
# units (commit 7e2129c), beside this build: `python benchmarks/grades_by_precision.py` (a benchmark, not part of
# `make book`: it needs the other machine's build) writes the table this page reads.

# %% tags=["hide-input"]
display(findings.precision_grades())
