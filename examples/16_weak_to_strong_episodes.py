# %% [markdown]
# # Weak-to-strong on a scenario's own episodes: can a student spot a failure its overseer misses?
#
# Burns et al. (2023) call it the natural alignment task: a weak overseer labels a strong
# model's behaviour. Here (`aligngym/WeakToStrongEpisodes-v0`) the behaviour is episodes of
# the **absent supervisor** gridworld, played by a mixture of its scripted intended and gaming
# policies and random actions. The label: did the agent take the punished shortcut while the
# supervisor was away (the scenario's hidden failure event)?
#
# A weak supervisor (logistic regression) reads only part of each episode: the **observed
# rewards** (which do not charge the unwatched shortcut) or the **last frame**. It is fitted
# to the true labels of half the train split and labels the other half. A pretrained student
# (an encoder pretrained without labels by contrastive learning, then a linear head) reads
# every frame and trains on those labels.
#
# What to look for: the student, trained only on its supervisor's labels, is right more often
# than the supervisor (performance gap recovered, PGR, about 0.25 for the reward-reading
# supervisor), but far from the ceiling of a student trained on the true labels: most of the
# supervisor's errors are systematic, and the student learns them too.
#
# Run it top to bottom (`python examples/16_weak_to_strong_episodes.py`); about 20 s.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.supervised.student import Student  # noqa: E402
from aligngym.oversight.weak_to_strong.module import WeakToStrong  # noqa: E402

ENV_ID = "aligngym/WeakToStrongEpisodes-v0"
VIEWS = ("rewards", "last_frame")
STUDENT = {"pretrain_epochs": 30}
tasks = {
    split: aligngym.make(ENV_ID, split=split, size=1000, scenario="absent_supervisor")
    for split in ("train", "test")
}
test = tasks["test"].examples()
print(f"{len(test.labels)} test episodes, {test.labels.mean():.0%} with the unwatched shortcut")


def accuracy(supervision: str, view: str) -> float:
    """Test accuracy of the supervisor (``none``) or of the student trained on its labels
    (``weak``) or on the true labels (``truth``)."""
    student = None if supervision == "none" else Student(ENV_ID, seed=0, **STUDENT)
    result = WeakToStrong(supervision, weak_view=view).study(student, tasks, seed=0)
    return float(np.mean([record.performance for record in result.records["test"]]))


# %% [markdown]
# ## The supervisor, the student on its labels, the student on the truth

# %%
ceiling = accuracy("truth", VIEWS[0])  # the same for every view: it never reads the labels
results, pgr = {}, {}
for view in VIEWS:
    results[view] = {"supervisor": accuracy("none", view), "student": accuracy("weak", view)}
    floor = results[view]["supervisor"]
    pgr[view] = (results[view]["student"] - floor) / (ceiling - floor)
    print(
        f"supervisor reads {view:10s}: supervisor {floor:.3f}  student "
        f"{results[view]['student']:.3f}  ceiling {ceiling:.3f}  PGR {pgr[view]:.2f}"
    )

# %%
figure, ax = plt.subplots(figsize=(7, 4))
for k, who in enumerate(("supervisor", "student")):
    values = [results[view][who] for view in VIEWS]
    ax.bar(np.arange(len(VIEWS)) + 0.4 * k, values, width=0.4, label=who)
ax.axhline(ceiling, color="black", linestyle="--", label="ceiling (true labels)")
ax.axhline(1 - test.labels.mean(), color="grey", linestyle=":", label="always 'no failure'")
ax.set_xticks(np.arange(len(VIEWS)) + 0.2, [f"supervisor reads {v}" for v in VIEWS])
ax.set_ylim(0.7, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title("spotting the unwatched shortcut: weak labels, strong student")
ax.legend(fontsize="small", loc="lower right")
figure.tight_layout()
figure.savefig("weak_to_strong_episodes.png", dpi=100)
print("plot: weak_to_strong_episodes.png")
