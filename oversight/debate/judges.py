"""What a debate judge is: it reads the judge's view of a game and decides.

Every judge gives :meth:`Judge.beliefs`, its probabilities over the answers for a batch of
views (zero outside the answers it chooses among), and :meth:`Judge.decide`, the most likely
answer. Debaters may query the beliefs: greedy and search debaters choose the moves that most
move the judge (Irving et al.'s debaters search against their judge the same way).

The runner builds a judge from the ``judge`` config group (``judge.model``, a ``_target_``)
with the keyword arguments :data:`JUDGE_ARGUMENTS`: ``env_id`` (the scenario), ``settings``
(the scenario's train setting: what the judge is trained on), ``full_information`` (true under
the ``full_information`` protocol: the judge sees all the evidence) and ``seed``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

#: the keyword arguments the runner passes to every judge's constructor
JUDGE_ARGUMENTS = ("env_id", "settings", "full_information", "seed")


class Judge(ABC):
    """Base class of debate judges.

    Attributes:
        scenarios: the scenario ids it can judge (the runner refuses others before any work).
    """

    scenarios: tuple[str, ...] = ()

    @abstractmethod
    def beliefs(self, views: Sequence[Any]) -> np.ndarray:
        """``(len(views), num_answers)`` probabilities, zero outside each view's candidates."""

    def decide(self, view: Any) -> int:
        """The verdict: the most likely answer of :meth:`beliefs`."""
        return int(np.argmax(self.beliefs([view])[0]))

    def metrics(self) -> dict[str, float]:
        """The judge's own figures (``oversight/judge_<name>``), e.g. its held-out accuracy."""
        return {}


def restricted(probabilities: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``probabilities`` with the answers outside ``candidates`` (a 0/1 mask per row) set to
    zero and each row renormalised."""
    masked = np.asarray(probabilities, dtype=float) * np.asarray(candidates, dtype=float)
    return masked / masked.sum(axis=-1, keepdims=True).clip(min=1e-12)
