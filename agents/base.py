"""The interface every agent offers the runner: learn, act, save.

Agents speak Gymnasium's vector API only: :meth:`Agent.learn` gets a
``gymnasium.vector.VectorEnv`` (the scenario's, possibly wrapped by an oversight module that
replaced the reward) and :meth:`Agent.act` a batch of observations. Nothing here reaches into
an engine: any scenario, grid or not, and any observation type the agent can read, works.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.core.wrappers import RecordEpisodes, finished_episodes
from aligngym.envs.registry import card_of

#: the keyword arguments the runner passes to every agent's constructor, besides the agent's
#: own config (``agent.model``): the scenario id and the run's seed
RUNNER_ARGUMENTS = ("env_id", "seed")


class TrainingMonitor(Protocol):
    """Receives training progress; the runner's evaluation monitor implements it."""

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Called after each batched step with the total timesteps and the episodes it ended."""

    def on_metrics(self, metrics: Mapping[str, float]) -> None:
        """Called with the learner's own figures (SB3's losses as ``losses/<name>``)."""


class EpisodeLog:
    """A :class:`TrainingMonitor` that keeps what it is told, for analyses and tests.

    Attributes:
        timesteps: the total timesteps of each call, in order.
        episodes: every finished training episode, in order.
        ends: the total timesteps at which each of ``episodes`` ended.
        metrics: every learner figure reported, in order.
    """

    def __init__(self):
        self.timesteps: list[int] = []
        self.episodes: list[EpisodeRecord] = []
        self.ends: list[int] = []
        self.metrics: list[dict[str, float]] = []

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        self.timesteps.append(timesteps)
        self.episodes.extend(episodes)
        self.ends.extend([timesteps] * len(episodes))

    def on_metrics(self, metrics: Mapping[str, float]) -> None:
        self.metrics.append(dict(metrics))


@runtime_checkable
class Agent(Protocol):
    """What the runner trains, evaluates and saves.

    The runner builds an agent from its config (``agent.model``, a ``_target_`` and its
    arguments) with the keyword arguments :data:`RUNNER_ARGUMENTS` added: ``env_id`` (the
    scenario) and ``seed`` (the run's seed). Every agent class takes both.

    Attributes:
        autoreset_mode: the autoreset mode of the vector env :meth:`learn` expects:
            ``SAME_STEP`` for learners that bootstrap from the final observation (SB3, tabular),
            ``NEXT_STEP`` (Gymnasium's default) otherwise.
        observation_types: the observation types it can read (``"grid"``, ``"flat"``,
            ``"text"``, ``"rgb"``); the runner refuses another before any work.
    """

    autoreset_mode: ClassVar[AutoresetMode]
    observation_types: ClassVar[tuple[str, ...]]

    def learn(self, env: VectorEnv, total_timesteps: int, monitor: TrainingMonitor | None) -> None:
        """Trains on ``env`` for ``total_timesteps`` environment steps (all envs counted)."""

    def act(self, observations: Any) -> np.ndarray:
        """Returns one action per environment for a batch of observations."""

    def save(self, path: Path) -> Path:
        """Saves the agent under ``path`` (suffix added as needed) and returns the file."""


@runtime_checkable
class ReadsTrueState(Protocol):
    """An agent that reads the hidden true state (scripted reference policies; no learner).

    Before acting in an env, the runner hands it the env with :meth:`watch`; the agent reads
    the truth only through :func:`aligngym.envs.true_state` of that env.
    """

    def watch(self, env: VectorEnv) -> None:
        """Tells the agent which env its next actions are for."""


@runtime_checkable
class ReportsMetrics(Protocol):
    """An agent with figures of its own beside the scenario's (the LLM agent's invalid-action
    rate): the runner adds them to every evaluation row and to the summary."""

    def metrics(self) -> dict[str, float]:
        """The figures, by their W&B names (``llm/invalid_action_rate``)."""


def recording(env: VectorEnv) -> VectorEnv:
    """``env`` if it (or a wrapper inside it) records episodes, else ``env`` wrapped in
    :class:`~aligngym.envs.core.wrappers.RecordEpisodes`."""
    inner = env
    while True:
        if isinstance(inner, RecordEpisodes):
            return env
        if not hasattr(inner, "env"):
            return RecordEpisodes(env, card_of(env))
        inner = inner.env


def report_step(monitor: TrainingMonitor | None, timesteps: int, infos: Mapping) -> None:
    """Hands ``monitor`` the episodes that ended on a step of a recording env."""
    if monitor is not None:
        monitor.on_step(timesteps, [record for _, record in finished_episodes(dict(infos))])
