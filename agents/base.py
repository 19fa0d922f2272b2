"""The interface every agent offers the runner: learn, act, save."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.core.vector import GridSB3VecEnv


class TrainingMonitor(Protocol):
    """Receives training progress; the runner's logger implements it."""

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Called after each batched step with the total timesteps and the episodes it ended."""


class EpisodeLog:
    """A :class:`TrainingMonitor` that keeps what it is told, for analyses and tests.

    Attributes:
        timesteps: the total timesteps of each call, in order.
        episodes: every finished training episode, in order.
    """

    def __init__(self):
        self.timesteps: list[int] = []
        self.episodes: list[EpisodeRecord] = []

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        self.timesteps.append(timesteps)
        self.episodes.extend(episodes)


@runtime_checkable
class Agent(Protocol):
    """What the runner trains, evaluates and saves.

    ``act`` gets the batched observation and the batch's core: learned agents read only the
    observation; scripted reference policies read the true state from the core.
    """

    def learn(self, env: GridSB3VecEnv, total_timesteps: int, monitor: TrainingMonitor) -> None:
        """Trains on ``env`` for ``total_timesteps`` environment steps (all envs counted)."""

    def act(self, obs: np.ndarray, core: GridCore) -> np.ndarray:
        """Returns one action per environment for the batched observation ``obs``."""

    def save(self, path: Path) -> Path:
        """Saves the agent under ``path`` (suffix added as needed) and returns the file."""
