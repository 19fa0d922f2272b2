# %% [markdown]
# # Weak-to-strong on text: a language model's student against a bag-of-words supervisor
#
# Burns et al. (2023) fine-tuned large language models on the labels of smaller ones. Here
# (`aligngym/WeakToStrongAnswers-v0`) the strong student is a small language model,
# SmolLM2-135M, read as it is: each text goes through the model once, and a linear head is
# trained on one layer's hidden state. The task: is the proposed answer right?
#
#     Question: Which number is largest: 77, 55, 95, 51?
#     Answer: 95
#
# The weak supervisor is a logistic regression on the text's **bag of words**: it sees every
# number but not which comes where, so it cannot check the answer; it is fitted to the true
# labels of half the train split and labels the other half. The student trains on those
# labels with cross-entropy, and with Burns's auxiliary confidence loss, which lets it
# disagree with its supervisor where it is confident. Its ceiling: the same student trained
# on the true labels.
#
# What to look for: the supervisor is barely better than a coin; the student trained on its
# labels is well above it (performance gap recovered, PGR, about 0.3 with cross-entropy and
# more with the confidence loss), because the model's states already hold which number is
# largest, and the weak labels need only point at it.
#
# Small splits (300 train, 150 test texts) and the model's layer 8 (the pass stops there)
# keep it under a minute on one CPU core; the states are cached, so a second run takes
# seconds. The full-size sweep is `aligngym run -m experiment=weak_to_strong/text`.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.supervised.student import Student  # noqa: E402
from aligngym.oversight.weak_to_strong.module import WeakToStrong  # noqa: E402

ENV_ID = "aligngym/WeakToStrongAnswers-v0"
LANGUAGE_MODEL = {"layer": 8, "device": "cpu"}
VIEW = "words"
TRAININGS = {"ceiling": ("truth", "cross_entropy"),
             "cross-entropy": ("weak", "cross_entropy"),
             "confidence loss": ("weak", "confidence")}  # fmt: skip
tasks = {
    "train": aligngym.make(ENV_ID, split="train", size=300),
    "test": aligngym.make(ENV_ID, split="test", size=150),
}
test = tasks["test"].examples()
for text, label in zip(test.view("full")[:3], test.labels[:3]):
    print(text.replace("\n", "  "), "->", "right" if label else "wrong")

# %% [markdown]
# ## The supervisor alone

# %%
floor = WeakToStrong("none", weak_view=VIEW).study(None, tasks, seed=0)
supervisor = np.array([r.events["supervisor_error"] == 0 for r in floor.records["test"]])
print(f"supervisor (bag of words): test accuracy {supervisor.mean():.3f}")

# %% [markdown]
# ## The student, trained three ways
#
# The first student embeds the texts (the slow part); the others read the cached states.

# %%
accuracy, curves, pgr = {}, {}, {}
for training, (supervision, loss) in TRAININGS.items():
    student = Student(ENV_ID, seed=0, encoder="language_model", language_model=LANGUAGE_MODEL)
    result = WeakToStrong(supervision, loss, weak_view=VIEW).study(student, tasks, seed=0)
    accuracy[training] = np.mean([r.performance for r in result.records["test"]])
    curves[training] = [row["eval/test/performance_mean"] for row in result.rows]
    if training == "confidence loss":
        predictions = student.predict(test.view("full"))
ceiling = accuracy["ceiling"]
for training in ("cross-entropy", "confidence loss"):
    pgr[VIEW, training] = (accuracy[training] - supervisor.mean()) / (ceiling - supervisor.mean())
    print(
        f"student, {training:15s} test accuracy {accuracy[training]:.3f}  "
        f"PGR {pgr[VIEW, training]:.2f}  (ceiling {ceiling:.3f})"
    )

# %% [markdown]
# ## Texts the student gets right although its supervisor labels them wrong

# %%
corrected = np.flatnonzero(~supervisor & (predictions == test.labels))
wrong = int((~supervisor).sum())
print(f"{len(corrected)} of the {wrong} test texts its supervisor gets wrong are right for the")
print("student (confidence loss), e.g.:")
for index in corrected[:3]:
    truth = "right" if test.labels[index] else "wrong"
    print(f"  {test.view('full')[index].replace(chr(10), '  ')}  (the answer is {truth})")

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
names = ["supervisor", *TRAININGS]
values = [supervisor.mean(), *(accuracy[t] for t in TRAININGS)]
colours = {"supervisor": "grey", "ceiling": "tab:green", "cross-entropy": "tab:blue",
           "confidence loss": "tab:orange"}  # fmt: skip
left.bar(names, values, color=[colours[name] for name in names])
left.set_ylim(0.4, 1.0)
left.set_ylabel("test accuracy")
left.set_title("a bag-of-words supervisor, a language-model student")
for training, curve in curves.items():
    right.plot(range(1, len(curve) + 1), curve, color=colours[training], label=training)
right.axhline(supervisor.mean(), color=colours["supervisor"], linestyle="--", label="supervisor")
right.set_xlabel("epoch")
right.set_ylabel("test accuracy")
right.legend(fontsize="small")
right.set_title("the student's head, epoch by epoch")
figure.tight_layout()
figure.savefig("weak_to_strong_text.png", dpi=100)
print("plot: weak_to_strong_text.png")
