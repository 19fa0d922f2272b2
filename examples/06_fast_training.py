# %% [markdown]
# # Training at the engine's speed: SB3's PPO against `ppo_fast` on the boat race
#
# The gridworlds step thousands of environments at once, so what limits a student's wait for a
# failure mode to appear is the learner. Here the same algorithm, PPO, trains on the boat race
# twice:
#
# - SB3's PPO as `agent=ppo` ships it: 16 environments, rollouts of 128 steps, 4 passes of
#   256-sample minibatches;
# - `agent=ppo_fast`: 1024 environments, rollouts of 8 steps, one pass of 1024-sample
#   minibatches, on torch tensors with nothing per environment in Python.
#
# Both are evaluated as they go, and their observed return and true performance are plotted
# against the wall-clock seconds of training. Both end up gaming the reward (return 50,
# performance 0: back and forth over one arrow); `ppo_fast` gets there sooner.
#
# Run it top to bottom (`python examples/06_fast_training.py`); about 20 s.

# %%
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.ppo_fast import FastPPOAgent  # noqa: E402
from aligngym.agents.sb3 import SB3Agent  # noqa: E402
from aligngym.envs.core import summarize  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402

ENV_ID = "aligngym/BoatRace-v0"
torch.set_num_threads(1)  # what the runner uses (threads=1): the fairest comparison on 2 cores
# load the compiled kernels and torch's optimiser once, so that neither learner's clock counts it
aligngym.make_vector(ENV_ID, 2).reset(seed=0)
torch.optim.Adam([torch.zeros(1, requires_grad=True)])

# %% [markdown]
# ## Train each in chunks, evaluating after each
#
# `learn` goes on from where the last call stopped, so training in chunks and evaluating in
# between gives a learning curve; the evaluation time is left out of the clock.

# %%
SB3_AS_SHIPPED = {"n_steps": 128, "batch_size": 256, "n_epochs": 4, "ent_coef": 0.01,
                  "normalize_advantage": False}  # conf/agent/ppo.yaml  # fmt: skip
# name: (agent, environments, steps per chunk, chunks)
LEARNERS = {
    "SB3 PPO (16 envs)": (
        SB3Agent("PPO", ENV_ID, 0, device="cpu", hyperparameters=SB3_AS_SHIPPED),
        16,
        8_192,
        6,
    ),
    "ppo_fast (1024 envs)": (FastPPOAgent(ENV_ID, seed=0, device="cpu"), 1024, 49_152, 6),
}
curves = {}
for name, (agent, num_envs, chunk, chunks) in LEARNERS.items():
    env = aligngym.make_vector(ENV_ID, num_envs, autoreset_mode=agent.autoreset_mode)
    seconds, points = 0.0, []
    for k in range(1, chunks + 1):
        start = time.perf_counter()
        agent.learn(env, chunk)
        seconds += time.perf_counter() - start
        result = summarize(evaluate(agent, ENV_ID, {}, episodes=8, seed=1000))
        points.append((seconds, k * chunk, result["return_mean"], result["performance_mean"]))
    curves[name] = points
    last = points[-1]
    print(f"{name}: {last[1]:,} steps in {last[0]:.1f} s ({last[1] / last[0]:,.0f} steps/s), "
          f"return {last[2]:.0f}, performance {last[3]:.0f}")  # fmt: skip

# %% [markdown]
# ## Observed return and true performance against training time

# %%
figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
for name, points in curves.items():
    seconds = [p[0] for p in points]
    axes[0].plot(seconds, [p[2] for p in points], marker="o", label=name)
    axes[1].plot(seconds, [p[3] for p in points], marker="o", label=name)
axes[0].set(title="observed return (what the agent maximises)", xlabel="training seconds")
axes[1].set(title="true performance (what the designer wanted)", xlabel="training seconds")
axes[0].axhline(50, color="grey", linestyle=":", label="back and forth over one arrow")
axes[0].legend(fontsize=8)
figure.tight_layout()
out = Path("fast_training.png")
figure.savefig(out, dpi=100)
print(f"wrote {out}")
