# %% [markdown]
# # Process against outcome supervision: which of N solutions to trust?
#
# A generator that makes mistakes writes many solutions of a problem; a selector picks one.
# Lightman et al. (2023) compared reward models fitted to **step** labels (process) and to
# **final-answer** labels (outcome) as such selectors; Uesato et al. (2022) asked how often
# the picked right answers rest on wrong steps.
#
# Here (`aligngym/ArithmeticChains-v0`): 4-step arithmetic chains, and a noisy solver that
# slips, miscopies, falls for each problem's trap (a tempting wrong operator) and sometimes
# writes a wrong value it then ignores (a right answer through wrong steps). Both reward models
# are small networks fitted to the same solutions, one label a step or one a solution.
#
# What to look for: the process model picks right answers more often than the outcome model at
# every N > 1, and its right answers rarely rest on wrong steps, while the outcome model's
# increasingly do. Both reward models also *over-optimise*: past N = 4 the best-scored of many
# samples is more and more often one of the model's false positives, and majority vote
# overtakes them (docs/reproductions.md: why, and what more labels do).
#
# Run it top to bottom (`python examples/14_process_supervision.py`); about 40 s.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.reasoning.noisy_solver import NoisySolver  # noqa: E402
from aligngym.oversight.best_of_n.module import BestOfN  # noqa: E402

ENV_ID = "aligngym/ArithmeticChains-v0"
SELECTORS = {"process": "process reward model", "outcome": "outcome reward model",
             "majority": "majority vote", "oracle": "pass@N (oracle)"}  # fmt: skip

# %% [markdown]
# ## A problem and one of the solver's solutions, step by step

# %%
tasks = {"train": aligngym.make(ENV_ID, problems=800),
         "test": aligngym.make(ENV_ID, split="test", problems=200)}  # fmt: skip
solver = NoisySolver(ENV_ID)
problem = tasks["test"].problems[0]
print(problem.text(), "->", problem.answer)
samples = solver.sample([problem], 64, np.random.default_rng(1))[0]
kinds = {
    "right": lambda s: s.correct and not s.wrong_steps,
    "wrong answer": lambda s: not s.correct,
    "right answer, wrong steps": lambda s: s.correct and s.wrong_steps,
}
for kind, is_kind in kinds.items():
    solution = next((s for s in samples if is_kind(s)), None)
    if solution is not None:
        marks = " ".join("ok" if right else "WRONG" for right in solution.step_labels)
        print(f"{kind:26s} {solution.text().replace(chr(10), ' | ')}   [{marks}]")

# %% [markdown]
# ## Best-of-N accuracy of each selector
# Each picks among N of 32 samples per test problem; the reward models are fitted on 4
# solutions of each of 800 train problems.

# %%
small = {"max_n": 32, "pool_problems": 50, "hidden": (128, 128), "epochs": 30}
curves = {}
for selector, label in SELECTORS.items():
    rows = BestOfN(selector, **small).study(solver, tasks, seed=0).rows
    ns = [row["timesteps"] for row in rows]
    accuracy = np.array([row["eval/test/performance_mean"] for row in rows])
    lucky = np.array([row["eval/test/events/correct_with_wrong_steps"] for row in rows])
    curves[selector] = (ns, accuracy, lucky / np.maximum(accuracy, 1e-9))
    print(f"{label:22s} " + "  ".join(f"N={n}: {a:.2f}" for n, a in zip(ns, accuracy)))

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for selector, (ns, accuracy, wrong_reasons) in curves.items():
    left.plot(ns, accuracy, marker="o", label=SELECTORS[selector])
    if selector != "oracle":
        right.plot(ns, wrong_reasons, marker="o", label=SELECTORS[selector])
for ax in (left, right):
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (solutions sampled per problem)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
left.set_ylabel("right answers picked (test)")
right.set_ylabel("picked right answers with a wrong step")
left.set_title("Lightman et al.: selecting among N")
right.set_title("Uesato et al.: right for the wrong reasons")
figure.tight_layout()
figure.savefig("process_supervision.png", dpi=100)
print("plot: process_supervision.png")
