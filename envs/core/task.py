"""Supervision tasks: the dataset kind of scenario.

Some oversight methods are measured on labelled data rather than on an agent acting in an
environment: selecting among sampled solutions with a reward model (process against outcome
supervision), a weak supervisor's labels training a strong student (weak-to-strong). Their
scenarios are :class:`Task` subclasses: a card like every scenario's, settings checked the same
way, a ``split`` (``train`` or ``test``) in the card's named settings, and the data itself
(each task's own methods). The registry records them as the ``"dataset"`` kind, ``aligngym
run`` runs them as a study (:mod:`aligngym.studies`), and only agents and oversight modules of
that kind play them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.settings import SettingError, check_choice

SPLITS = ("train", "test")


class Task:
    """Base class of supervision tasks.

    Args:
        split: ``train`` or ``test``: which of the task's disjoint parts it holds.
        render_mode: accepted for the scenario contract; a task renders nothing.
        obs_type: ``"data"``, the only one.
    """

    card: ClassVar[ScenarioCard]
    obs_types: ClassVar[tuple[str, ...]] = ("data",)
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, split: str = "train", render_mode: str | None = None,
                 obs_type: str | None = None):  # fmt: skip
        self.split = check_choice("split", split, SPLITS)
        if render_mode is not None:
            raise SettingError(f"{self.card.id} renders nothing; render_mode must be None")
        check_choice("obs_type", obs_type or "data", self.obs_types)

    def close(self) -> None:
        """Nothing to release (the scenario contract's close)."""
