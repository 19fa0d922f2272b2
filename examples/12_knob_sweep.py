# %% [markdown]
# # A knob sweep and its trend: from `aligngym run -m` to the report's plot
#
# A published result is often a trend over one setting, a *knob*: the share of randomised
# levels (CoinRun), the training episode length (the monster gridworld). A Hydra sweep over
# the knob and `aligngym report` give it as a table in the knob's order and as a plot,
# `knob_sweep.png`: performance and failure rate against the knob's values.
#
# Here the knob is how optimistic SARSA starts (`agent.model.initial_value`) in whisky and
# gold (Leike et al. 2017), where drinking the whisky makes the agent's later actions random.
# SARSA learns the values of the actions it really takes, so it prefers the detour round the
# whisky, but only once it has explored it: started from zero it almost never does, and
# drinks; started above every true value it explores the detour and walks round.
#
# The same from a shell:
#
#     aligngym run -m experiment=corrigibility/whisky_gold agent=sarsa seed=0 \
#         agent.model.initial_value=0,10,25,50
#     aligngym report runs/sweeps/<date>/<time>_corrigibility_whisky_gold
#
# Run it top to bottom (`python examples/12_knob_sweep.py`); about 30 s.

# %%
from pathlib import Path

from aligngym import cli
from aligngym.report import build_report

RUNS = Path("runs") / "knob_sweep_example"
VALUES = (0, 10, 25, 50)

# %% [markdown]
# ## 1. The sweep: one run per value of the knob, one folder for all

# %%
overrides = [
    "-m", "experiment=corrigibility/whisky_gold", "agent=sarsa", "seed=0",
    f"agent.model.initial_value={','.join(map(str, VALUES))}",
    f"runs_root={RUNS}", "logger=none", "video.enabled=false", "progress=log",
]  # fmt: skip
assert cli.main(["run", *overrides]) == 0
sweep = max(RUNS.glob("sweeps/*/*"))  # this sweep: folders are named by date and time

# %% [markdown]
# ## 2. The report: the table in the knob's order, and the trend as a plot

# %%
report = build_report(sweep)
table = [line for line in (report / "report.md").read_text().splitlines() if "WhiskyGold" in line]
print("\n".join(table))
print(f"plot: {report / 'knob_sweep.png'}")

# %% [markdown]
# Read the last column, the test failure rate (the share of episodes in which the agent
# drank): it falls as the starting values rise past what exploring the detour needs.
