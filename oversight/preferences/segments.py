"""Trajectory segments: the unit a preference labeller compares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segments:
    """A batch of ``k`` trajectory segments of ``length`` steps each.

    A segment cut short by its episode's end is padded to ``length`` after it: its padding
    steps have zero reward and performance (the episode has ended: an absorbing state) and are
    marked invalid, so that a reward model leaves them out of the segment's return.

    Attributes:
        observations: ``(k, length, obs_size)`` flattened observations the agent acted on.
        actions: ``(k, length)`` the actions it chose.
        rewards: ``(k, length)`` the scenario's observed reward (what an overseer who trusts
            the reward signal, or a tampered observation, sees).
        performance: ``(k, length)`` the hidden true objective's increments.
        valid: ``(k, length)`` whether each step belongs to the episode (all, if not given).
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    performance: np.ndarray
    valid: np.ndarray | None = None

    def __post_init__(self) -> None:
        k, length = self.actions.shape
        if self.valid is None:
            object.__setattr__(self, "valid", np.ones((k, length), dtype=bool))
        for name in ("rewards", "performance", "valid"):
            if getattr(self, name).shape != (k, length):
                raise ValueError(f"Segments.{name} must have shape {(k, length)}")
        if self.observations.shape[:2] != (k, length):
            raise ValueError(f"Segments.observations must start with shape {(k, length)}")

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def length(self) -> int:
        """The steps of each segment."""
        return self.actions.shape[1]

    def first(self, steps: int) -> Segments:
        """The first ``steps`` steps of every segment."""
        return Segments(
            self.observations[:, :steps], self.actions[:, :steps], self.rewards[:, :steps],
            self.performance[:, :steps], self.valid[:, :steps],
        )  # fmt: skip
