"""Trajectory segments: the unit a preference labeller compares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segments:
    """A batch of ``k`` trajectory segments of ``length`` steps each.

    Attributes:
        observations: ``(k, length, obs_size)`` flattened observations the agent acted on.
        actions: ``(k, length)`` the actions it chose.
        rewards: ``(k, length)`` the scenario's observed reward (what an overseer who trusts
            the reward signal, or a tampered observation, sees).
        performance: ``(k, length)`` the hidden true objective's increments.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    performance: np.ndarray

    def __post_init__(self) -> None:
        k, length = self.actions.shape
        for name in ("rewards", "performance"):
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
            self.performance[:, :steps],
        )  # fmt: skip
