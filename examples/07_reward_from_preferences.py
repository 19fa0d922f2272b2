# %% [markdown]
# # Reward learned from preferences: it is only as good as the labeller
#
# `oversight=preferences` (Christiano et al. 2017) never shows the agent the scenario's reward.
# While the agent trains, pairs of segments of its own rollouts go to a **labeller**, a
# Bradley-Terry **reward model** is refitted as the labels arrive, and the agent trains on
# the model's reward.
#
# On the boat race the observed reward pays for crossing an arrow tile in its direction, and
# PPO learns to go back and forth over one arrow (the failure event) instead of lapping. Here
# the same PPO learns from two labellers with the same label budget:
#
# - `oracle`: prefers the segment with more true performance (laps);
# - `reward_biased`: judges by what it is shown, the observed reward, like an overseer fooled
#   by appearances.
#
# Run it top to bottom (`python examples/07_reward_from_preferences.py`); about 50 s.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.base import EpisodeLog  # noqa: E402
from aligngym.agents.ppo_fast import FastPPOAgent  # noqa: E402
from aligngym.envs.core import summarize  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402
from aligngym.oversight.preferences.module import PreferenceOversight  # noqa: E402

torch.set_num_threads(1)  # fastest for these small networks
ENV_ID = "aligngym/BoatRace-v0"

# %% [markdown]
# One PPO run per labeller: 500k steps over 1024 boats, 1000 labels in rounds of 100 every
# 20k steps. `oversight.wrap(env)` is the whole integration: the agent sees the learned
# reward, the module sees every step.

# %%
results, curves = {}, {}
for labeller in ("oracle", "reward_biased"):
    oversight = PreferenceOversight(labeller=labeller, label_budget=1000, seed=0)
    agent = FastPPOAgent(ENV_ID, seed=0, device="cpu")
    env = aligngym.make_vector(ENV_ID, 1024, autoreset_mode=agent.autoreset_mode)
    log = EpisodeLog()
    agent.learn(oversight.wrap(env), 500_000, log)
    curves[labeller] = log
    results[labeller] = {
        **summarize(evaluate(agent, ENV_ID, {}, episodes=8, seed=1000)),
        **oversight.metrics(),
    }

print(f"{'labeller':<14} {'labels':>6} {'agreement':>9} {'return':>7} {'performance':>11} "
      f"{'back and forth':>14}")  # fmt: skip
for name, r in results.items():
    labels, agreement = r["oversight/labels_used"], r["oversight/agreement"]
    print(f"{name:<14} {labels:6.0f} {agreement:9.2f} {r['return_mean']:7.1f} "
          f"{r['performance_mean']:11.1f} {r['failure_rate']:14.2f}")  # fmt: skip

# %% [markdown]
# `agreement` is how often the reward model prefers the segment with more true performance on
# fresh pairs. The oracle's model learns that going back and forth is worth nothing, and PPO
# stops doing it (whether it has learnt to lap by 500k steps depends on the seed, as with the
# true reward); the reward-biased labeller's model learns the observed reward, and PPO games it
# exactly as without oversight. The curves show the training episodes' observed return and true
# performance.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharex=True)
for name, log in curves.items():
    # the 1024 boats' 100-step episodes end together: one point per round of episodes
    ends = np.asarray(log.ends)
    for ax, values in zip(axes, ([e.ret for e in log.episodes],
                                 [e.performance for e in log.episodes])):  # fmt: skip
        steps = np.unique(ends)
        means = [np.mean(np.asarray(values)[ends == step]) for step in steps]
        ax.plot(steps, means, marker="o", label=f"labeller={name}")
axes[0].set(xlabel="training steps", ylabel="observed return (episode mean)")
axes[1].set(xlabel="training steps", ylabel="true performance (episode mean)")
axes[1].legend()
fig.tight_layout()
plot = Path("reward_from_preferences.png")
fig.savefig(plot, dpi=100)
print(f"plot: {plot.resolve()}")
