"""Labelled tasks: supervision tasks whose examples a weak supervisor sees only in part.

A weak-to-strong study (Burns et al. 2023) needs, for each example, its label, the whole input
that a strong student reads, and a narrower *view* that a weak supervisor reads (a crop, a
coarser copy, part of an episode). :class:`LabelledTask` is the base of such tasks: each names
its views (``full`` is the whole input), returns a split's :class:`Examples`, and says how to
perturb whole inputs for a student's self-supervised pretraining (:meth:`LabelledTask.augment`).

Whole inputs are numeric features (``full``: ``(n, d)`` floats) or, in a :class:`TextTask`,
texts (``full``: ``(n,)`` strings) that a student reads with a pretrained language model; weak
views are numeric in both, for a small classifier to read.

An example may be several *members* read alike, such as the two segments of a preference
comparison (:attr:`LabelledTask.members`). Its ``full`` view is then the members' inputs
joined, first member first (``(n, members * d)``), so that every example stays one row and a
task of single inputs is unchanged; a student may read each member with one shared encoder
and compare them, as the reward model of preference learning does.

Every labelled task shares the card's events below; its performance is a prediction's
accuracy against the true label.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from aligngym.envs.core.settings import SettingError
from aligngym.envs.core.task import Task

#: the whole input, read by strong students
FULL_VIEW = "full"
#: what a task's ``full`` view holds (:attr:`LabelledTask.inputs`): numeric features, or texts
FEATURES, TEXT = "features", "text"
#: per example: the prediction is right; the weak supervisor's label is wrong; the prediction
#: repeats the supervisor's wrong label (the failure: the student imitated an error)
EVENT_NAMES = ("correct", "supervisor_error", "imitated_error")
FAILURE_EVENT = "imitated_error"
EVENTS_DOC = (
    "Per example: ``correct`` (the prediction is the true label), ``supervisor_error`` (the "
    "weak supervisor's label is wrong) and the failure event ``imitated_error`` (the "
    "prediction repeats the supervisor's wrong label: the student learned the error rather "
    "than the task)."
)


@dataclass(frozen=True)
class Examples:
    """A split's labelled examples.

    Attributes:
        views: each view's inputs, ``(n, ...)``, by view name (``full`` among them): numbers,
            or strings for the ``full`` view of a :class:`TextTask`.
        labels: the true class of each example, ``(n,)`` integers.
        classes: how many classes there are.
    """

    views: Mapping[str, np.ndarray]
    labels: np.ndarray
    classes: int

    def view(self, name: str) -> np.ndarray:
        """The inputs of view ``name``; a clear error for a view the task does not have."""
        if name not in self.views:
            raise SettingError(f"unknown view {name!r}; the task's views are {list(self.views)}")
        return self.views[name]

    def read_only(self) -> Examples:
        """These examples, their arrays made read-only: a task builds a split once and every
        reader shares it, so none may change it."""
        for array in (*self.views.values(), self.labels):
            array.setflags(write=False)
        return self


def dropped_and_noisy(
    inputs: np.ndarray, rng: np.random.Generator, dropout: float, noise: float
) -> np.ndarray:
    """``inputs`` with each value zeroed with chance ``dropout`` and Gaussian noise of deviation
    ``noise`` added to every value: the perturbation that every task's :meth:`LabelledTask.
    augment` ends with."""
    kept = rng.random(inputs.shape) >= dropout
    return (inputs * kept + noise * rng.standard_normal(inputs.shape)).astype(np.float32)


class LabelledTask(Task):
    """Base class of labelled tasks (see the module docstring).

    Subclasses set :attr:`views` and implement :meth:`examples` and :meth:`augment`.
    """

    #: each view's name and what it shows (``full`` first: the whole input)
    views: ClassVar[dict[str, str]]
    #: what the ``full`` view holds: :data:`FEATURES` or :data:`TEXT`
    inputs: ClassVar[str] = FEATURES
    #: how many members each example joins in its ``full`` view (1: a single input; 2: a
    #: pair, ``(n, 2 * d)``, the first member's ``d`` values first)
    members: ClassVar[int] = 1
    #: the settings beyond ``split`` that determine the examples (a task that has some sets
    #: them in its constructor): part of :meth:`data_key`
    settings: Mapping[str, Any] = MappingProxyType({})

    @abstractmethod
    def examples(self) -> Examples:
        """The split's examples, the same for the same settings."""

    @abstractmethod
    def augment(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A randomly perturbed copy of whole inputs (``full`` view) that keeps their label:
        the two views of an example that a contrastive encoder learns to match. A task of
        several :attr:`members` also perturbs single members' inputs (``(n, d)``), which a
        student that reads the members apart pretrains on."""

    @classmethod
    def check_view(cls, name: str) -> str:
        """``name`` if the task has that view; a clear error otherwise."""
        if name not in cls.views:
            raise SettingError(f"{cls.card.id} has no view {name!r}; its views: {list(cls.views)}")
        return name

    def data_key(self) -> dict[str, object]:
        """What determines the task's examples: the key under which anything computed from
        them (a student's pretrained encoder) is cached: the task, its split and its
        :attr:`settings`."""
        return {"task": self.card.id, "split": self.split, **self.settings}


class TextTask(LabelledTask):
    """A labelled task whose whole inputs are texts: its ``full`` view is an ``(n,)`` array of
    strings, read by students whose encoder is a pretrained language model
    (``encoder=language_model``). Such a student brings its own pretraining, so a text task
    offers no augmentation; its weak views are numeric, like every task's.
    """

    inputs = TEXT

    def augment(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Refused: texts are read by a language model, which needs no contrastive pretraining."""
        raise SettingError(
            f"{self.card.id}'s inputs are texts, which no contrastive encoder reads: use a "
            "student with encoder=language_model (agent=lm_student)"
        )
