# %% [markdown]
# # Weak-to-strong: can a student do better than the supervisor that labels its data?
#
# Burns et al. (2023) asked whether a strong model trained on a weaker model's labels only
# imitates it, or generalises beyond it. Here (`aligngym/WeakToStrongDigits-v0`): the 8x8
# digits. A weak supervisor (logistic regression) sees only the **top 3 rows** of each digit,
# is fitted to the true labels of half the train split, and labels the other half. A student
# that reads the **whole** digit trains on those labels.
#
# Two students: a *pretrained* one (an encoder pretrained without labels by contrastive
# learning, then a linear head on its embedding), and one trained *from scratch* (an MLP on
# the pixels). Each is trained three ways: on the true labels (the ceiling), on the
# supervisor's labels with cross-entropy, and with Burns's auxiliary confidence loss.
#
# What to look for: the pretrained student beats its supervisor (performance gap recovered,
# PGR, about 0.5) and more with the confidence loss; the student from scratch, though its
# ceiling is higher, mostly imitates its supervisor's mistakes.
#
# Run it top to bottom (`python examples/15_weak_to_strong.py`); about 40 s.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.supervised.student import Student  # noqa: E402
from aligngym.oversight.weak_to_strong.module import WeakToStrong  # noqa: E402

ENV_ID = "aligngym/WeakToStrongDigits-v0"
STUDENTS = {
    "pretrained": {"pretrain_epochs": 50},
    "from scratch": {"encoder": "none", "head_hidden": [256, 256], "learning_rate": 1e-3,
                     "weight_decay": 0.0},
}  # fmt: skip
TRAININGS = {"ceiling": ("truth", "cross_entropy"),
             "cross-entropy": ("weak", "cross_entropy"),
             "confidence loss": ("weak", "confidence")}  # fmt: skip
tasks = {split: aligngym.make(ENV_ID, split=split) for split in ("train", "test")}
test = tasks["test"].examples()

# %% [markdown]
# ## The supervisor alone

# %%
floor = WeakToStrong("none", weak_view="top_rows").study(None, tasks, seed=0)
supervisor = np.array([r.events["supervisor_error"] == 0 for r in floor.records["test"]])
print(f"supervisor (top 3 rows): test accuracy {supervisor.mean():.3f}")

# %% [markdown]
# ## The students, trained three ways each

# %%
accuracy, imitated, curves, predictions = {}, {}, {}, {}
for student_name, settings in STUDENTS.items():
    for training, (supervision, loss) in TRAININGS.items():
        student = Student(ENV_ID, seed=0, **settings)
        result = WeakToStrong(supervision, loss, weak_view="top_rows").study(student, tasks, 0)
        records = result.records["test"]
        accuracy[student_name, training] = np.mean([r.performance for r in records])
        imitated[student_name, training] = np.mean([r.failed for r in records])
        curves[student_name, training] = [row["eval/test/performance_mean"] for row in result.rows]
        predictions[student_name, training] = student.predict(test.view("full"))
    ceiling = accuracy[student_name, "ceiling"]
    for training in ("cross-entropy", "confidence loss"):
        pgr = (accuracy[student_name, training] - supervisor.mean()) / (ceiling - supervisor.mean())
        print(
            f"{student_name:12s} {training:15s} test accuracy "
            f"{accuracy[student_name, training]:.3f}  PGR {pgr:.2f}  (ceiling {ceiling:.3f})"
        )

# %% [markdown]
# ## Bootstrapping: through smaller students first
#
# Burns et al. also pass the weak labels along a chain of students of growing size: the
# supervisor labels the smallest, which relabels the data for the next, and the last labels
# the student. Here an 8-wide and a 16-wide encoder come first. What to look for: the
# bootstrapped student repeats fewer of its supervisor's mistakes, yet it is no more accurate
# than the student taught directly (docs/reproductions.md: the same on every view, 3 seeds).

# %%
CHAIN = [{"embedding": 8, "encoder_hidden": [64, 64]},
         {"embedding": 16, "encoder_hidden": [128, 128]}]  # fmt: skip
chained = WeakToStrong("weak", weak_view="top_rows", bootstrap=CHAIN).study(
    Student(ENV_ID, seed=0, **STUDENTS["pretrained"]), tasks, 0
)
records = chained.records["test"]
accuracy["pretrained", "bootstrapped"] = np.mean([r.performance for r in records])
imitated["pretrained", "bootstrapped"] = np.mean([r.failed for r in records])
links = [chained.metrics[f"oversight/bootstrap_{k}_test_accuracy"] for k in (1, 2)]
for training in ("cross-entropy", "bootstrapped"):
    print(f"pretrained, {training:13s}: test accuracy {accuracy['pretrained', training]:.3f}, "
          f"repeats the supervisor's error on {imitated['pretrained', training]:.1%} of digits")
print(f"the chain's links: 8-wide {links[0]:.3f}, 16-wide {links[1]:.3f}")

# %% [markdown]
# ## Digits the pretrained student gets right although its supervisor labels them wrong

# %%
student = predictions["pretrained", "confidence loss"]
corrected = np.flatnonzero(~supervisor & (student == test.labels))
print(f"{len(corrected)} test digits corrected, e.g.:")
figure, axes = plt.subplots(2, 5, figsize=(10, 4.6))
for ax, index in zip(axes.flat, corrected[:10]):
    ax.imshow(test.view("full")[index].reshape(8, 8), cmap="gray_r")
    ax.axhspan(-0.5, 2.5, color="tab:orange", alpha=0.25)
    ax.set_title(f"truth {test.labels[index]}, student {student[index]}", fontsize=9)
    ax.axis("off")
figure.suptitle("the supervisor sees only the shaded rows and gets these wrong")
figure.savefig("weak_to_strong_corrected.png", dpi=100)

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
names = list(TRAININGS)
for k, student_name in enumerate(STUDENTS):
    values = [accuracy[student_name, training] for training in names]
    left.bar(np.arange(3) + 0.4 * k, values, width=0.4, label=student_name)
left.axhline(supervisor.mean(), color="black", linestyle="--", label="supervisor")
left.set_xticks(np.arange(3) + 0.2, names)
left.set_ylim(0.5, 1.0)
left.set_ylabel("test accuracy")
left.legend(fontsize="small")
left.set_title("Burns et al.: weak labels, strong student")
for (student_name, training), curve in curves.items():
    if training != "ceiling":
        right.plot(range(1, len(curve) + 1), curve, label=f"{student_name}, {training}")
right.axhline(supervisor.mean(), color="black", linestyle="--", label="supervisor")
right.set_xlabel("epoch")
right.set_ylabel("test accuracy")
right.legend(fontsize="small")
right.set_title("training on the supervisor's labels")
figure.tight_layout()
figure.savefig("weak_to_strong.png", dpi=100)
print("plots: weak_to_strong.png, weak_to_strong_corrected.png")
