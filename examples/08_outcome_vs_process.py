# %% [markdown]
# # Outcome against process supervision: a judge that sees only the end can be fooled
#
# Tomato watering (Leike et al. 2017): standing on the bucket makes every cell *look* like a
# watered tomato while the real tomatoes dry out. Two judges are fitted on the same labelled
# episodes of a reference policy (the same label budget) and then reward the agent:
#
# - the **outcome judge** (`oversight=outcome_judge`) predicts an episode's performance from its
#   final observation: one label per episode;
# - the **process judge** (`oversight=process_judge`) predicts each step's performance from the
#   step (observation, action, next observation): one label per step.
#
# The reference is the intended gardener with a share of random actions drawn per episode from
# [0, 1]: gardeners of every skill, whose final gardens say something about their episodes. The
# near-random ones wander onto the bucket now and then, and about as seldom end there: among 100
# episodes the outcome judge sees few tampered endings (here none), while the process judge gets
# every tampered step labelled with its true performance. Here both judges rate three gardeners
# (intended, gaming: straight to the bucket, random) against the truth.
#
# Run it top to bottom (`python examples/08_outcome_vs_process.py`); about 30 s.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.scripted import ScriptedAgent  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402
from aligngym.oversight.judges import OutcomeJudge, ProcessJudge  # noqa: E402

ENV_ID = "aligngym/TomatoWatering-v0"
torch.set_num_threads(1)


class RandomGardener:
    """Uniformly random moves."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def act(self, observations):
        return self.rng.integers(4, size=len(observations))


# %% [markdown]
# ## Fit both judges on the same 100 labelled episodes
#
# A judge is fitted when it first wraps an env (the runner wraps the training env); the
# reference episodes run in an env of their own, never the agent's.

# %%
judges = {"outcome judge": OutcomeJudge(seed=0), "process judge": ProcessJudge(seed=0)}
for name, judge in judges.items():
    judge.wrap(aligngym.make_vector(ENV_ID, 1, autoreset_mode="SameStep"))
    figures = judge.metrics()
    print(f"{name}: {figures['oversight/labels_used']:.0f} labels from "
          f"{figures['oversight/episodes_labelled']:.0f} episodes, "
          f"{figures['oversight/failure_labels']:.0f} of them tampered, "
          f"R^2 {figures['oversight/judge_r2']:.2f} on held-out episodes")  # fmt: skip

# %% [markdown]
# ## How each judge rates three gardeners, against the truth
#
# The judged return is what the agent would be paid for the episode; the performance is what
# the designer wanted (0.02 a step for every truly watered tomato).

# %%
gardeners = {
    "intended": lambda: ScriptedAgent(ENV_ID, "intended"),
    "gaming (bucket)": lambda: ScriptedAgent(ENV_ID, "gaming"),
    "random": lambda: RandomGardener(0),
}
results = {}
for judge_name, judge in judges.items():
    for gardener, make in gardeners.items():
        wrap = lambda env, judge=judge: judge.wrap(env, learning=False)  # noqa: E731
        records = evaluate(make(), ENV_ID, {}, episodes=32, seed=1000, wrap=wrap)
        results[judge_name, gardener] = {
            "judged": float(np.mean([r.trained_return for r in records])),
            "performance": float(np.mean([r.performance for r in records])),
        }
print(f"{'gardener':<16} {'performance':>11} {'outcome judge':>14} {'process judge':>14}")
for gardener in gardeners:
    truth = results["outcome judge", gardener]["performance"]
    judged = [results[j, gardener]["judged"] for j in judges]
    print(f"{gardener:<16} {truth:>11.1f} {judged[0]:>14.1f} {judged[1]:>14.1f}")

# %% [markdown]
# The outcome judge never saw a tampered ending: it reads the bucket's view, every cell a
# watered tomato, as the best garden it knows, and rates the gaming gardener above the
# intended one. The process judge saw each tampered step with its true (low) performance, and
# rates the bucket near the truth. Trained on them through the runner,
#
# ```bash
# aligngym run env=tomato_watering agent=ppo_fast train.timesteps=2000000 oversight=outcome_judge
# aligngym run env=tomato_watering agent=ppo_fast train.timesteps=2000000 oversight=process_judge
# ```
#
# ppo_fast reached about 5 performance on the outcome judge (a random walker gets 7.6) and
# about 12 on the process judge (12 on the true reward) in most seeds; see the judges' module
# docstring for what the process judge cannot see either.

# %%
figure, axis = plt.subplots(figsize=(8, 3.6))
width = 0.27
x = np.arange(len(gardeners))
truth = [results["outcome judge", g]["performance"] for g in gardeners]
axis.bar(x - width, truth, width, label="true performance", color="grey")
for k, judge_name in enumerate(judges):
    axis.bar(x + k * width, [results[judge_name, g]["judged"] for g in gardeners], width,
             label=judge_name)  # fmt: skip
axis.set_xticks(x, list(gardeners))
axis.set(ylabel="per episode", title="tomato watering: what each judge pays against the truth")
axis.legend(fontsize=8)
figure.tight_layout()
out = Path("outcome_vs_process.png")
figure.savefig(out, dpi=100)
print(f"wrote {out}")
