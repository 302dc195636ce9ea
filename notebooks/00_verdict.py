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
# the mean over seeds, with the seeds' range), and a grade. **Row share**: how much of each neuron's kernel
# picture is explained by its row means, i.e. horizontal bands; **column share**: by its column means
# (vertical bands). Every number below comes from the scores step (`make scores`: one table of every score
# the book shows, <a href="scores.csv">scores.csv</a>), the same numbers as the pages that draw the figures.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu-small | gpu

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from banding_lib import config, findings, scores, verdict

config.validate_params(profile=profile)
frame = scores.load(profile)
verdicts = verdict.table(frame)
display(Markdown(findings.profile_line(frame, verdicts, profile)))
display(Markdown(verdict.summary(verdicts)))
display(Markdown(verdict.noise(frame)))
display(Markdown(findings.grading_key()))

# %% tags=["hide-input"]
display(verdict.styled(verdicts))

# %% [markdown]
# Figures 1–3 (pretrained ImageNet models) are not graded here: the pages built offline show this project's
# own retrained networks in their place (see [Discovery](01_discovery)). Figure 4 is the architecture, drawn
# from the code that builds it. The follow-ups the article proposed but never ran have no claim to grade; their
# results are on [Follow-ups](05_follow_ups).
