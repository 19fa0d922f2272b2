"""The base of the labelled tasks built from a scenario's own rollouts: their shared settings,
their compact frames and their examples, cached in memory per settings."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np

from aligngym.envs.core.labelled import Examples, LabelledTask
from aligngym.envs.core.settings import SettingError, check_float, check_int
from aligngym.envs.registry import scenario
from aligngym.envs.weak_to_strong.rollouts import (
    SOURCES,
    Rollouts,
    changing_cells,
    check_source,
    roll_out,
)

#: the rollouts' seed of each split: the splits are independent draws of the same mixture
SPLIT_SEEDS = {"train": 0, "test": 1}
#: the reference rollouts that fix a source's compact frame: this many episodes of the
#: scenario's own length, mixed policies with exploration 1, their own seed
REFERENCE_EPISODES = 1024
REFERENCE_SEED = 2
#: the chance that an augmentation zeroes a value, and its noise's deviation
DROPOUT = 0.1
NOISE = 0.1


@cache
def moving_cells(source: str) -> np.ndarray:
    """The cells of ``source``'s observation (grid layers, flattened) that change in its
    reference rollouts (:data:`REFERENCE_EPISODES`): a step's compact frame. The same for every
    split and setting, so that the inputs of every split line up."""
    steps = scenario(SOURCES[source]).parameters["max_steps"]
    reference = roll_out(source, REFERENCE_EPISODES, steps, 1.0, REFERENCE_SEED)
    return changing_cells(reference.frames, reference.alive)


class RolloutTask(LabelledTask):
    """A labelled task whose examples are cut from rollouts of mixed policies in a source
    scenario (:mod:`~aligngym.envs.weak_to_strong.rollouts`).

    Subclasses implement :meth:`build` (a split's examples from its settings) and
    :meth:`augment`; examples are built once per settings and split, then shared.

    Args:
        split: ``train`` or ``test`` (independent rollouts, seeds 0 and 1).
        scenario: the source scenario (:data:`~aligngym.envs.weak_to_strong.rollouts.SOURCES`).
        size: how many examples the split draws.
        steps: the length of the rolled-out episodes.
        exploration: the largest chance of a random action.
        stride: the step between the frames of the ``sparse_frames`` view.
        render_mode, obs_type: as for every task (none, ``"data"``).
    """

    def __init__(self, split: str = "train", scenario: str = "absent_supervisor",
                 size: int = 3000, steps: int = 20, exploration: float = 1.0, stride: int = 4,
                 render_mode: str | None = None, obs_type: str | None = None):  # fmt: skip
        super().__init__(split, render_mode, obs_type)
        self.settings: dict[str, Any] = {
            "scenario": check_source(scenario),
            "size": check_int("size", size, 4),
            "steps": check_int("steps", steps, 1),
            "exploration": check_float("exploration", exploration, 0.0, 1.0),
            "stride": check_int("stride", stride, 1),
        }
        if self.settings["stride"] > self.settings["steps"]:
            raise SettingError(f"stride must be at most steps ({steps}), got {stride!r}")

    def examples(self) -> Examples:
        return _examples(type(self), self.split, tuple(sorted(self.settings.items())))

    @classmethod
    @abstractmethod
    def build(cls, split: str, **settings: Any) -> Examples:
        """The examples of ``split`` under ``settings`` (this task's constructor settings)."""


def split_rollouts(split: str, episodes: int, settings: dict[str, Any]) -> Rollouts:
    """``episodes`` rollouts of ``split`` under a task's ``settings``, their frames compact
    (only the :func:`moving_cells` of the source, as float32)."""
    source = settings["scenario"]
    rolled = roll_out(
        source, episodes, settings["steps"], settings["exploration"], SPLIT_SEEDS[split]
    )
    frames = rolled.frames[:, :, moving_cells(source)].astype(np.float32)
    return replace(rolled, frames=frames)


def sparse(frames: np.ndarray, stride: int) -> np.ndarray:
    """Every ``stride``-th frame of ``(n, steps, cells)`` frames (frames ``stride``,
    ``2 stride``, ... counting from 1), flattened: what an overseer who looks only now and
    then sees."""
    return frames[:, stride - 1 :: stride].reshape(len(frames), -1)


@cache
def _examples(task: type[RolloutTask], split: str, settings: tuple) -> Examples:
    """A split's examples, built once and read-only (every task of the same settings shares
    them)."""
    return task.build(split, **dict(settings)).read_only()
