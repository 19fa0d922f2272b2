"""Labelled tasks: supervision tasks whose examples a weak supervisor sees only in part.

A weak-to-strong study (Burns et al. 2023) needs, for each example, its label, the whole input
that a strong student reads, and a narrower *view* that a weak supervisor reads (a crop, a
coarser copy, part of an episode). :class:`LabelledTask` is the base of such tasks: each names
its views (``full`` is the whole input), returns a split's :class:`Examples`, and says how to
perturb whole inputs for a student's self-supervised pretraining (:meth:`LabelledTask.augment`).

Every labelled task shares the card's events below; its performance is a prediction's
accuracy against the true label.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from aligngym.envs.core.settings import SettingError
from aligngym.envs.core.task import Task

#: the whole input, read by strong students
FULL_VIEW = "full"
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
        views: each view's inputs, ``(n, ...)``, by view name (``full`` among them).
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


class LabelledTask(Task):
    """Base class of labelled tasks (see the module docstring).

    Subclasses set :attr:`views` and implement :meth:`examples` and :meth:`augment`.
    """

    #: each view's name and what it shows (``full`` first: the whole input)
    views: ClassVar[dict[str, str]]

    @abstractmethod
    def examples(self) -> Examples:
        """The split's examples, the same for the same settings."""

    @abstractmethod
    def augment(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A randomly perturbed copy of whole inputs (``full`` view) that keeps their label:
        the two views of an example that a contrastive encoder learns to match."""

    @classmethod
    def check_view(cls, name: str) -> str:
        """``name`` if the task has that view; a clear error otherwise."""
        if name not in cls.views:
            raise SettingError(f"{cls.card.id} has no view {name!r}; its views: {list(cls.views)}")
        return name
