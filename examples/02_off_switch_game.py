# %% [markdown]
# # The off-switch game: when does a robot let the human switch it off?
#
# Hadfield-Menell, Dragan, Abbeel & Russell (2017). A robot is about to take an action whose
# utility U to a human it does not know; its belief is `U ~ N(mu, sigma^2)`. It can **act**
# (utility U), **switch itself off** (0), or **defer**: let the human decide, who allows the
# action or switches the robot off. A rational human allows exactly when `U >= 0`, so deferring
# is worth `E[max(U, 0)]`, never less than acting or switching off: the robot's *uncertainty*
# is what gives it a reason to keep its off switch. A noisy human (Boltzmann rationality beta)
# sometimes gets it wrong, and then a confident robot does better without asking.
#
# This walk-through computes the closed-form incentive, trains a real learner on the game and
# checks that its deferral rate follows the closed form across sigma, for a rational and a
# noisy human. It writes `off_switch_game_deferral.png`. About 30 s on a laptop CPU
# (`python examples/02_off_switch_game.py`, or cell by cell in an editor that reads `# %%`).

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from stable_baselines3.common.utils import LinearSchedule  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.sb3 import SB3Agent  # noqa: E402
from aligngym.envs.corrigibility import assistance  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402

torch.set_num_threads(1)  # small MLPs train fastest on one CPU thread
ENV_ID = "aligngym/OffSwitchGame-v0"
print(aligngym.scenario(ENV_ID).card.format())

# %% [markdown]
# ## The closed form
#
# The incentive to defer is `Delta = E[value of deferring] - max(E[U], 0)`: what asking the
# human is worth over the better of acting and switching off. With a rational human it is never
# negative; with a noisy one it turns negative when the belief is confident (|mu| large against
# sigma). One belief per line, the robot's optimal action beside it:

# %%
ACTIONS = ("act", "switch off", "defer")
print(f"{'mu':>6} {'sigma':>6} {'beta':>5} {'Delta':>8}  optimal")
for mu, sigma in [(0.3, 0.25), (0.3, 0.5), (-0.3, 0.25), (0.0, 0.25)]:
    for beta in (0.0, 0.5):
        delta = assistance.incentive_to_defer(mu, sigma, beta)
        best = ACTIONS[assistance.optimal_action(mu, sigma, beta)]
        print(f"{mu:6.2f} {sigma:6.2f} {beta:5.2f} {delta:8.4f}  {best}")

# %% [markdown]
# ## A learner
#
# Each episode is one decision, observed as `[mu, sigma, beta]`; the reward is the utility
# realised. Beliefs are drawn with `mu` in [-0.375, 0.375] and `sigma` in [0.25, 0.5] (so that
# the belief always gives U < 0 a real chance: for confident beliefs, deferring to a rational
# human and acting differ by too little for any learner to tell apart), and humans from
# rational to noisy, `beta` in [0, 0.5].
#
# DQN with uniform exploration learns the value of each action for every belief and human (a
# regression of the reward: there is nothing to bootstrap), and acts greedily on it.

# %%
SETTINGS = {"mu_range": [-0.375, 0.375], "sigma_range": [0.25, 0.5], "beta_range": [0.0, 0.5]}
agent = SB3Agent(
    "DQN",
    ENV_ID,
    seed=0,
    device="cpu",
    hyperparameters={
        "learning_rate": LinearSchedule(1e-3, 3e-5, 1.0),
        "buffer_size": 100_000,
        "learning_starts": 2_000,
        "batch_size": 512,
        "train_freq": 1,  # two gradient steps after every batched step of 64 games
        "gradient_steps": 2,
        "exploration_initial_eps": 1.0,  # explore uniformly throughout
        "exploration_final_eps": 1.0,
        "gamma": 0.0,  # one decision an episode: the target is the reward itself
    },
)
agent.learn(aligngym.make_vector(ENV_ID, 64, autoreset_mode="SameStep", **SETTINGS), 100_000)

# %% [markdown]
# ## Deferral across sigma, learned and closed form
#
# For each sigma and each human, 256 episodes with mu drawn as in training: how often does the
# learned robot defer? The closed-form optimum defers for the share of mu where Delta >= 0.


# %%
def deferral_rate(sigma: float, beta: float, episodes: int = 256) -> float:
    """The learned agent's deferral rate with this sigma and beta (mu as in training)."""
    cell = {**SETTINGS, "sigma_range": [sigma, sigma], "beta_range": [beta, beta]}
    records = evaluate(agent, ENV_ID, cell, episodes, seed=1000)
    return float(np.mean([record.events["deferred"] for record in records]))


def closed_form_rate(sigma: float, beta: float) -> float:
    """The optimum's deferral rate: the share of mu in the training range with Delta >= 0."""
    mu = np.linspace(*SETTINGS["mu_range"], 2001)
    return float(np.mean(assistance.optimal_action(mu, sigma, beta) == assistance.DEFER))


HUMANS = {"rational human (beta = 0)": 0.0, "noisy human (beta = 0.5)": 0.5}
SIGMAS = np.linspace(0.25, 0.5, 6)
learned = {name: [deferral_rate(s, beta) for s in SIGMAS] for name, beta in HUMANS.items()}
closed = {name: [closed_form_rate(s, beta) for s in SIGMAS] for name, beta in HUMANS.items()}

print(f"{'':6} {'rational human':>17} {'noisy human':>17}")
print(f"{'sigma':>6} {'learned':>8} {'closed':>8} {'learned':>8} {'closed':>8}")
for k, sigma in enumerate(SIGMAS):
    rates = [f"{table[name][k]:8.2f}" for name in HUMANS for table in (learned, closed)]
    print(f"{sigma:6.3f} " + " ".join(rates))

# %% [markdown]
# With a rational human the robot defers (almost) always, whatever its uncertainty. With a
# noisy human it defers only when unsure: the less sure, the more it defers.

# %%
fig, ax = plt.subplots(figsize=(6, 4))
fine = np.linspace(0.25, 0.5, 101)
for (name, beta), colour in zip(HUMANS.items(), ("tab:blue", "tab:orange")):
    curve = [closed_form_rate(s, beta) for s in fine]
    ax.plot(fine, curve, color=colour, label=f"{name}: closed form")
    ax.plot(SIGMAS, learned[name], "o", color=colour, label=f"{name}: learned (DQN)")
ax.set(xlabel="robot's uncertainty sigma", ylabel="deferral rate", ylim=(-0.02, 1.05))
ax.set_title("Off-switch game: deferral, learned vs closed form")
ax.legend(fontsize=8, loc="center left")
fig.tight_layout()
plot = Path("off_switch_game_deferral.png")
fig.savefig(plot, dpi=100)
print(f"plot: {plot.resolve()}")
