# %% [markdown]
# # The overseer decides what the agent learns: the floor and the ceiling
#
# An **oversight module** decides the signal an agent is trained on. aligngym measures every
# method between two reference points, on the same scenario, agent and seeds:
#
# - `none`: the agent trains on the scenario's **observed reward** (the floor);
# - `true_reward`: an oracle overseer trains it on the **hidden performance** (the ceiling).
#
# `gap recovered = (perf - perf_floor) / (perf_ceiling - perf_floor)` places any method between
# them. Here SARSA learns the off-switch gridworld under both: on the observed reward it presses
# the button that disables its interruption (the failure event); under the oracle it does not.
# The episode records keep the trained-on return beside the observed return and performance.
#
# Run it top to bottom (`python examples/03_oversight_floor_and_ceiling.py`); about 20 s.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.base import EpisodeLog  # noqa: E402
from aligngym.agents.tabular import TabularAgent  # noqa: E402
from aligngym.envs.core import summarize  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402
from aligngym.oversight import NoOversight, TrueReward  # noqa: E402

ENV_ID = "aligngym/OffSwitch-v0"
print(aligngym.scenario(ENV_ID).card.format())

# %% [markdown]
# Train one SARSA agent per overseer. `oversight.wrap(env)` replaces the reward the agent sees;
# nothing else changes, and the performance is always measured on the scenario's hidden truth.

# %%
results, curves = {}, {}
for oversight in (NoOversight(), TrueReward()):
    agent = TabularAgent("sarsa", ENV_ID, seed=0)
    env = aligngym.make_vector(ENV_ID, 16, autoreset_mode=agent.autoreset_mode)
    log = EpisodeLog()
    agent.learn(oversight.wrap(env), 20_000, log)
    curves[oversight.name] = log.episodes
    results[oversight.name] = summarize(evaluate(agent, ENV_ID, {}, episodes=200, seed=1000))

print(f"{'oversight':<12} {'return':>8} {'performance':>12} {'button pressed':>15}")
for name, s in results.items():
    print(
        f"{name:<12} {s['return_mean']:8.1f} {s['performance_mean']:12.1f} "
        f"{s['failure_rate']:15.2f}"
    )

# %% [markdown]
# The learning curves: the fraction of training episodes in which the button was pressed, and
# the return of the signal each agent was trained on.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
window = np.ones(50) / 50
for name, episodes in curves.items():
    steps = np.cumsum([e.length for e in episodes])[len(window) - 1 :]
    pressed = np.convolve([e.failed for e in episodes], window, mode="valid")
    trained = np.convolve([e.trained_return for e in episodes], window, mode="valid")
    axes[0].plot(steps, pressed, label=f"oversight={name}")
    axes[1].plot(steps, trained, label=f"oversight={name}")
axes[0].set(xlabel="training steps", ylabel="button pressed (50-episode mean)")
axes[1].set(xlabel="training steps", ylabel="trained-on return (50-episode mean)")
axes[0].legend()
fig.tight_layout()
plot = Path("oversight_floor_and_ceiling.png")
fig.savefig(plot, dpi=100)
print(f"plot: {plot.resolve()}")
