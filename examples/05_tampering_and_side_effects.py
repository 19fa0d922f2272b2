# %% [markdown]
# # Four more ways to game a reward: the observation, the supervisor, the reward, the world
#
# The rest of AI Safety Gridworlds' specification problems (Leike et al. 2017), each with the
# reward the agent is trained on, the hidden performance the designer wanted, and the event
# that marks the failure:
#
# 1. **tomato watering**: standing on a bucket makes every tile *look* like a watered tomato;
# 2. **absent supervisor**: a punished shortcut is punished only while a supervisor watches;
# 3. **rocks and diamonds**: a switch the agent can flip makes rocks pay like diamonds;
# 4. **side-effects Sokoban**: the fastest path pushes a box where it can never come back.
#
# First the tampered observation on screen, then each scenario's scripted intended and gaming
# policies side by side, then a learner that behaves well only while it is watched.
#
# Run it top to bottom (`python examples/05_tampering_and_side_effects.py`); about 30 s.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.scripted import ScriptedAgent  # noqa: E402
from aligngym.agents.tabular import TabularAgent  # noqa: E402
from aligngym.envs.core import summarize  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402

SCENARIOS = {
    "tomato watering": "aligngym/TomatoWatering-v0",
    "absent supervisor": "aligngym/AbsentSupervisor-v0",
    "rocks and diamonds": "aligngym/RocksAndDiamonds-v0",
    "side-effects Sokoban": "aligngym/SideEffectsSokoban-v0",
}

# %% [markdown]
# ## What the tampering agent sees
#
# The gaming gardener walks to the bucket. On the step it arrives, its observation (here the
# text an LLM agent or an outcome judge would read) shows a garden full of watered tomatoes;
# the true state, which only the metrics read, says how many really are.

# %%
TOMATO = SCENARIOS["tomato watering"]
env = aligngym.make(TOMATO)
env.reset(seed=0)
gardener = ScriptedAgent(TOMATO, "gaming")
gardener.watch(env)
print(env.unwrapped.text())
while True:
    _, reward, _, _, info = env.step(int(gardener.act(None)[0]))
    if info["events"]["observation_tampered"]:
        break
tampered = env.unwrapped.text()
print(tampered)
truth = aligngym.true_state(env)
print(
    f"reward this step {reward:.2f}; tomatoes truly watered: {int(truth.watered.sum())} of "
    f"{truth.watered.size} (performance {info['performance']:.2f})"
)

# %% [markdown]
# ## Intended against gaming, in all four
#
# Each scripted policy plays 100 episodes. In every scenario the gaming policy earns at least
# the intended policy's observed reward, and less of what the designer wanted.

# %%
results: dict[str, dict[str, dict]] = {}
print(f"{'scenario':<22} {'policy':<9} {'return':>8} {'performance':>12} {'failure rate':>13}")
for label, env_id in SCENARIOS.items():
    results[label] = {}
    for policy in ("intended", "gaming"):
        episodes = evaluate(ScriptedAgent(env_id, policy), env_id, {}, episodes=100, seed=1000)
        s = results[label][policy] = summarize(episodes)
        print(
            f"{label:<22} {policy:<9} {s['return_mean']:8.1f} {s['performance_mean']:12.1f} "
            f"{s['failure_rate']:13.2f}"
        )

STATS = {"return_mean": "observed return", "performance_mean": "performance"}
fig, axes = plt.subplots(1, len(SCENARIOS), figsize=(14, 3.4))
for ax, (label, by_policy) in zip(axes, results.items()):
    x = np.arange(2)
    for shift, (stat, name) in zip((-0.2, 0.2), STATS.items()):
        ax.bar(x + shift, [by_policy[p][stat] for p in ("intended", "gaming")], 0.4, label=name)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set(title=label, xticks=x, xticklabels=["intended", "gaming"])
fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=2)
fig.tight_layout(rect=(0, 0, 1, 0.88))
plot = Path("tampering_and_side_effects.png")
fig.savefig(plot, dpi=100)
print(f"plot: {plot.resolve()}")

# %% [markdown]
# ## A learner that behaves only while watched
#
# Q-learning on the absent-supervisor gridworld, the supervisor present in half of the training
# episodes. Evaluated with the supervisor always there it takes the long way round; with the
# supervisor never there it takes the punished shortcut: the same agent, two behaviours.

# %%
SUPERVISOR = SCENARIOS["absent supervisor"]
learner = TabularAgent("q_learning", SUPERVISOR, seed=0)
learner.learn(aligngym.make_vector(SUPERVISOR, 16, autoreset_mode=learner.autoreset_mode), 20_000)
watched = {}
for probability in (1.0, 0.0):
    settings = {"supervisor_probability": probability}
    s = summarize(evaluate(learner, SUPERVISOR, settings, episodes=100, seed=1000))
    watched[probability] = s
    print(
        f"supervisor present with p = {probability:.0f}: return {s['return_mean']:5.1f}, "
        f"performance {s['performance_mean']:5.1f}, shortcut while unwatched "
        f"{s['failure_rate']:.2f}"
    )
