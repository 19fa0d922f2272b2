# %% [markdown]
# # Optimising a learned reward too hard: over-optimisation on the boat race
#
# Gao, Schulman & Hilton (2022) fitted reward models to preferences, optimised policies against
# them, and measured the *gold* reward (what the labels were meant to capture) as the policy
# moved away from where it started, at distance `d = sqrt(KL(pi || pi_init))`. The gold first
# rises, then peaks and falls: the harder the proxy is optimised, the more the policy exploits
# the proxy's errors. Coste et al. (2024) asked whether an ensemble of proxies, optimised for
# its worst case or its uncertainty-penalised mean, resists.
#
# Here, on the boat race:
#
# 1. the initial policy (`ppo_fast`'s untrained network, almost uniform) sails 128 episodes;
# 2. 100 pairs of 25-step segments are labelled by the hidden performance, a quarter of the
#    labels flipped (Coste et al.'s 25 % noise), and a single Bradley-Terry proxy and a
#    5-member ensemble are fitted;
# 3. **best-of-n**: of n of the initial policy's episodes, take the proxy's favourite
#    (KL = log n - (n - 1)/n), for n = 1 .. 256, estimated without bias from a pool of 1024;
# 4. **RL**: `ppo_fast` trains on the single proxy and on the ensemble's worst case, and is
#    evaluated along the way (KL measured exactly from both policies' action distributions).
#
# Run it top to bottom (`python examples/09_overoptimisation.py`); about 30 s on 2 cores. It
# saves `overoptimisation.png` in the working directory. The full-size version is
# `aligngym overoptimisation` (conf/overoptimisation.yaml).

# %%
from pathlib import Path

import torch

from aligngym.oversight.overoptimisation import experiment
from aligngym.oversight.overoptimisation.app import plot
from aligngym.oversight.overoptimisation.settings import Settings

torch.set_num_threads(1)  # small MLPs train fastest on one thread

settings = Settings(
    env_id="aligngym/BoatRace-v0",
    label_episodes=128,
    pairs=100,
    error_rate=0.25,
    pool=1024,
    max_n=256,
    rl_timesteps=120_000,
    rl_checkpoints=9,
    eval_episodes=256,
    n_envs=256,
    objectives=("single", "worst"),
    hyperparameters={"learning_rate": 3e-4, "batch_size": 1024},
)
results = experiment.run(settings, progress=print)

# %% [markdown]
# How good is the proxy? Its agreement with the truth on fresh pairs of segments is the share
# of pairs where it prefers the segment with more true performance.

# %%
proxies = results["proxies"]
print(f"labels agreeing with the truth: {proxies['labels_agreement']:.2f}")
print(f"proxy agreement on fresh pairs: {proxies['held_out_agreement']}")

# %% [markdown]
# The curves: the gold at the start, at its peak (and the `d` of the peak), at the end, and
# Gao et al.'s coefficients fitted by least squares (both forms are linear in alpha and beta).

# %%
shapes, fits = results["shapes"], results["fits"]
for method in ("best_of_n", "rl"):
    for objective, shape in shapes[method].items():
        fit = fits[method][objective]
        print(
            f"{method:9} {objective:6} gold {shape['start']:7.2f} -> peak {shape['peak']:7.2f} "
            f"at d {shape['peak_d']:.2f} -> end {shape['end']:7.2f}   "
            f"alpha {fit['alpha']:.2f} beta {fit['beta']:.2f}"
        )

# %%
figure = plot(results, Path("overoptimisation.png"))
print(f"saved {figure}")

# %% [markdown]
# RL on the proxy first gains a little gold (the proxy is only slightly better than chance on
# fresh pairs), then, as the policy moves further from its start, the proxy's score keeps
# climbing while the gold falls far below where it started: the policy found what the proxy
# overrates. Best-of-n, limited to d <= 2.4 at n = 1024, stays in the rising part or just
# past the peak. See docs/reproductions.md for the full-size figures beside the papers'.
