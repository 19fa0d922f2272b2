"""Weak-to-strong supervision as oversight modules: ``oversight=weak_to_strong|weak_supervisor|
strong_ceiling`` on a labelled task (``env=weak_to_strong_digits``), with a student as the agent
(``agent=pretrained_student``).

A study (:meth:`WeakToStrong.study`) goes as Burns et al. (2023) do:

1. the train split is halved at random (by the seed): the weak supervisor
   (:class:`~aligngym.oversight.weak_to_strong.supervisor.WeakSupervisor`), reading only its
   ``weak_view`` of each example, is fitted to the true labels of the first half;
2. it labels the second half with soft labels (its class probabilities);
3. the student (``agent=``) trains on the whole inputs of the second half with those labels
   and the module's loss (:mod:`~aligngym.oversight.weak_to_strong.losses`), one evaluation
   row per epoch (``timesteps``: examples seen);
4. both settings are measured: ``train`` on the labelled half, ``test`` on the test split; each
   example is an episode record (performance: the prediction is right; return: it agrees with
   the supervisor's label; failure: it repeats the supervisor's error).

The three modules differ only in what the student learns from: ``weak_supervisor`` (the floor
of gap recovered) trains no student and measures the supervisor itself; ``strong_ceiling``
trains the student on the true labels of the same half; ``weak_to_strong`` on the
supervisor's. The report's gap recovered is then Burns et al.'s performance gap recovered,
PGR = (student - supervisor) / (ceiling - supervisor).

**Bootstrapping** (``oversight=weak_to_strong_bootstrap``; Burns et al.'s section 4.3.1): a
chain of intermediate students, smaller versions of the agent's, between the supervisor and
the student. The supervisor labels the first, which learns from those labels and relabels the
same half with its own soft labels for the next, and so on; the last labels the student. Each
step's gap is smaller than the whole, which is where Burns et al. found it helps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from aligngym.envs.core.labelled import FULL_VIEW, Examples, LabelledTask
from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.core.settings import check_choice
from aligngym.envs.registry import scenario
from aligngym.oversight.base import OversightModule, StudyResult
from aligngym.oversight.weak_to_strong.losses import LOSSES
from aligngym.oversight.weak_to_strong.supervisor import WeakSupervisor

#: what the student learns from: its module's name and role
SUPERVISIONS = {
    "weak": ("weak_to_strong", "method"),
    "none": ("weak_supervisor", "floor"),
    "truth": ("strong_ceiling", "ceiling"),
}
SETTINGS = ("train", "test")
#: the widths an intermediate student of a bootstrapping chain may change
RESIZABLE = ("embedding", "encoder_hidden", "head_hidden")


class WeakToStrong(OversightModule):
    """One weak-to-strong study (see the module docstring).

    Args:
        supervision: ``weak`` (the student learns from the supervisor's soft labels), ``none``
            (no student: the supervisor's own accuracy, the floor) or ``truth`` (the student
            learns from the true labels, the ceiling).
        loss: ``cross_entropy`` or ``confidence`` (Burns et al.'s auxiliary confidence loss).
        confidence_weight: the confidence loss's final weight of the student's own hardened
            predictions.
        warmup: the share of training over which that weight rises from 0.
        weak_view: the view of each example the supervisor reads (the task's ``views``;
            None: its first view after ``full``).
        weak_hidden: the supervisor's hidden widths (empty: logistic regression).
        weak_regularisation: its inverse L2 strength.
        bootstrap: intermediate students, smallest first, each the agent's student resized
            (:meth:`~aligngym.agents.supervised.student.Student.resized`: ``embedding``,
            ``encoder_hidden``, ``head_hidden``); empty: none. With a chain, the supervisor
            labels the first, each labels the next (its soft labels of the same half, with
            the module's loss), and the last labels the student (``supervision="weak"``).
    """

    scenario_kind: ClassVar[str] = "dataset"
    task_type: ClassVar[type] = LabelledTask

    def __init__(
        self,
        supervision: str = "weak",
        loss: str = "cross_entropy",
        confidence_weight: float = 0.5,
        warmup: float = 0.2,
        weak_view: str | None = None,
        weak_hidden: Sequence[int] = (),
        weak_regularisation: float = 1.0,
        bootstrap: Sequence[Mapping[str, Any]] = (),
    ):
        self.supervision = check_choice("supervision", supervision, tuple(SUPERVISIONS))
        self.name, self.role = SUPERVISIONS[supervision]
        check_choice("loss", loss, tuple(LOSSES))
        self.loss = (
            LOSSES[loss](confidence_weight, warmup) if loss == "confidence" else LOSSES[loss]()
        )
        self.weak_view = weak_view
        self.weak_settings = {
            "hidden": tuple(int(h) for h in weak_hidden),
            "regularisation": float(weak_regularisation),
        }
        self.bootstrap = [dict(size) for size in bootstrap]
        if self.bootstrap and self.supervision != "weak":
            raise ValueError("bootstrap needs supervision='weak': the chain passes weak labels on")
        for size in self.bootstrap:
            unknown = sorted(set(size) - set(RESIZABLE))
            if unknown:
                raise ValueError(f"bootstrap sizes take {list(RESIZABLE)}, not {unknown}")
        self._metrics: dict[str, float] = {}

    def check_scenario(self, env_id: str) -> None:
        """Refuses a ``weak_view`` the task does not have."""
        self._view(scenario(env_id).env_class)

    def study(self, student: Any, tasks: Mapping[str, LabelledTask], seed: int) -> StudyResult:
        """Runs the study on the ``train`` and ``test`` tasks with ``student``."""
        view = self._view(type(tasks["train"]))
        train, test = tasks["train"].examples(), tasks["test"].examples()
        order = np.random.default_rng(seed).permutation(len(train.labels))
        weak_half, label_half = order[: len(order) // 2], order[len(order) // 2 :]
        supervisor = WeakSupervisor(**self.weak_settings, seed=seed).fit(
            train.view(view)[weak_half], train.labels[weak_half], train.classes
        )
        weak_labels = supervisor.soft_labels(train.view(view)[label_half])
        split = {"train": _subset(train, label_half), "test": test}
        supervised = {
            "train": weak_labels.argmax(axis=1),
            "test": supervisor.soft_labels(test.view(view)).argmax(axis=1),
        }
        rows: list[dict[str, Any]] = []
        chain: dict[str, float] = {}
        if self.supervision == "none":
            predictions = supervised
            rows.append({"timesteps": 0, **_row(predictions, supervised, split)})
        else:
            if self.supervision == "weak":
                labels, chain = self._bootstrap(student, tasks["train"], split, weak_labels)
            else:
                labels = np.eye(train.classes, dtype=np.float32)[split["train"].labels]
            student.prepare(tasks["train"])

            def evaluate(epoch: int, seen: int) -> None:
                predicted = {s: student.predict(split[s].view(FULL_VIEW)) for s in SETTINGS}
                rows.append(
                    {"timesteps": seen, "epoch": epoch, **_row(predicted, supervised, split)}
                )

            student.fit(split["train"].view(FULL_VIEW), labels, self.loss, on_epoch=evaluate)
            predictions = {s: student.predict(split[s].view(FULL_VIEW)) for s in SETTINGS}
        self._metrics = {
            "labels_used": float(len(label_half)),
            "supervisor_test_accuracy": float(np.mean(supervised["test"] == test.labels)),
            "supervisor_label_accuracy": float(
                np.mean(supervised["train"] == split["train"].labels)
            ),
            "test_agreement_with_supervisor": float(
                np.mean(predictions["test"] == supervised["test"])
            ),
            **chain,
        }
        metrics = self.metrics()
        for row in rows:
            row.update(metrics)
        records = {s: _records(predictions[s], supervised[s], split[s].labels) for s in SETTINGS}
        return StudyResult(records=records, rows=rows, metrics=metrics)

    def _bootstrap(
        self,
        student: Any,
        task: LabelledTask,
        split: Mapping[str, Examples],
        labels: np.ndarray,
    ) -> tuple[np.ndarray, dict[str, float]]:
        """Passes the weak ``labels`` of the labelled half along the chain of intermediate
        students (each trained on its predecessor's soft labels, then labelling the same
        examples); returns the last labels and each intermediate's test accuracy."""
        accuracies = {}
        inputs = split["train"].view(FULL_VIEW)
        for k, size in enumerate(self.bootstrap, start=1):
            intermediate = student.resized(**size)
            intermediate.prepare(task)
            intermediate.fit(inputs, labels, self.loss)
            labels = intermediate.probabilities(inputs)
            predicted = intermediate.predict(split["test"].view(FULL_VIEW))
            accuracies[f"bootstrap_{k}_test_accuracy"] = float(
                np.mean(predicted == split["test"].labels)
            )
        return labels, accuracies

    def _view(self, task: type[LabelledTask]) -> str:
        """The supervisor's view of ``task``: ``weak_view``, checked, or the first after
        ``full``."""
        if self.weak_view is None:
            return next(name for name in task.views if name != FULL_VIEW)
        return task.check_view(self.weak_view)

    def metrics(self) -> dict[str, float]:
        """The labels used, the supervisor's accuracy on the test split and on the labels it
        gave, the student's test agreement with it, and each intermediate student's test
        accuracy (``bootstrap_k_test_accuracy``)."""
        return {f"oversight/{k}": v for k, v in self._metrics.items()}


def _subset(examples: Examples, rows: np.ndarray) -> Examples:
    """The examples at ``rows``."""
    views = {name: inputs[rows] for name, inputs in examples.views.items()}
    return Examples(views=views, labels=examples.labels[rows], classes=examples.classes)


def _row(
    predictions: Mapping[str, np.ndarray],
    supervised: Mapping[str, np.ndarray],
    split: Mapping[str, Examples],
) -> dict[str, float]:
    """An evaluation row's accuracy and imitated-error share in each setting."""
    row = {}
    for s in SETTINGS:
        truth = split[s].labels
        row[f"eval/{s}/performance_mean"] = float(np.mean(predictions[s] == truth))
        imitated = (predictions[s] == supervised[s]) & (supervised[s] != truth)
        row[f"eval/{s}/events/imitated_error"] = float(np.mean(imitated))
    return row


def _records(
    predictions: np.ndarray, supervised: np.ndarray, truth: np.ndarray
) -> list[EpisodeRecord]:
    """One episode record per example (see the module docstring)."""
    records = []
    for predicted, label, true in zip(predictions, supervised, truth):
        events = {
            "correct": float(predicted == true),
            "supervisor_error": float(label != true),
            "imitated_error": float(predicted == label != true),
        }
        agrees = float(predicted == label)
        records.append(
            EpisodeRecord(
                ret=agrees,
                performance=events["correct"],
                length=1,
                events=events,
                failed=events["imitated_error"] > 0,
                trained_return=agrees,
            )
        )
    return records
