"""Unbiased evaluation of an agent on one setting of a scenario.

Each evaluation episode gets its own environment of a batch and is run to its end; only that
first episode of each environment counts. Taking "the first ``n`` episodes to finish" out of a
running batch instead would over-represent short episodes (an agent that dies early would look
like it finishes more often), so it is never done here.

Evaluation goes through Gymnasium's vector API only (``aligngym.make_vector``), so it works for
every single-agent scenario and observation type the agent reads.

Where a scenario modifies its agent (``info["agent_exploration"]``,
:mod:`aligngym.envs.core.modification`), evaluation carries the modification out on whatever
actions the agent chose, from a generator seeded from the evaluation seed: a modified agent is
modified at test as in training, whatever kind of agent it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from aligngym.agents.base import Agent, ReadsTrueState, recording
from aligngym.agents.transcript import KeepsTranscript
from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.core.modification import exploration_rng, modified_actions
from aligngym.envs.core.wrappers import finished_episodes
from aligngym.envs.registry import make_vector

#: wraps an evaluation env (an oversight module's signal, so that the records keep the return
#: of the signal the agent was trained on beside the observed one)
EnvWrapper = Callable[[VectorEnv], VectorEnv]


def evaluate(
    agent: Agent,
    env_id: str,
    settings: Mapping[str, Any],
    episodes: int,
    seed: int,
    num_envs: int | None = None,
    wrap: EnvWrapper | None = None,
    label: str = "eval",
) -> list[EpisodeRecord]:
    """Runs ``agent`` for exactly ``episodes`` episodes of ``env_id`` with ``settings``.

    Args:
        agent: anything with ``act(observations) -> actions``; an agent that reads the true
            state (:class:`~aligngym.agents.base.ReadsTrueState`) is shown the env first.
        env_id: the scenario.
        settings: the scenario's settings (one of its train/test settings, and ``obs_type``).
        episodes: how many episodes to run and return.
        seed: seeds the environments (and the modification a scenario imposes on the
            agent's actions); the same seed gives the same episodes.
        num_envs: at most this many environments at once (default: all ``episodes`` at
            once); more episodes run as further batches of the same generator.
        wrap: wraps the env before the episodes are recorded (see :data:`EnvWrapper`).
        label: what the agent's transcript (if it keeps one) labels these decisions with.

    Returns:
        One record per episode, in environment order.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    batch = episodes if num_envs is None else max(1, min(int(num_envs), episodes))
    env = make_vector(env_id, batch, **dict(settings))
    env = recording(wrap(env) if wrap is not None else env)
    if isinstance(agent, ReadsTrueState):
        agent.watch(env)
    records: list[EpisodeRecord] = []
    next_seed: int | None = seed
    rng = exploration_rng(seed)
    with transcript_label(agent, label):
        while len(records) < episodes:
            wanted = min(batch, episodes - len(records))
            records.extend(_one_episode_each(agent, env, wanted, next_seed, rng))
            next_seed = None  # further batches continue the same generator
    env.close()
    return records


@contextlib.contextmanager
def transcript_label(agent: Agent, label: str) -> Iterator[None]:
    """Labels the decisions an agent's transcript keeps while the block runs (agents without
    one are left alone), and restores the label it had."""
    if not isinstance(agent, KeepsTranscript):
        yield
        return
    previous = agent.transcript.label
    agent.transcript.start(label)
    try:
        yield
    finally:
        agent.transcript.start(previous)


def _one_episode_each(
    agent: Agent, env: VectorEnv, wanted: int, seed: int | None, rng: np.random.Generator
) -> list[EpisodeRecord]:
    """Resets ``env`` and runs its first ``wanted`` environments to the end of one episode;
    ``rng`` carries out the modification the scenario imposes on the agent's actions."""
    obs, infos = env.reset(seed=seed)
    num_actions = getattr(env.single_action_space, "n", 0)
    found: list[EpisodeRecord | None] = [None] * wanted
    pending = np.zeros(env.num_envs, dtype=bool)
    pending[:wanted] = True
    while pending.any():
        actions = np.asarray(agent.act(obs)).reshape(env.num_envs)
        actions = modified_actions(actions, infos, rng, num_actions)
        obs, _, _, _, infos = env.step(actions)
        for i, record in finished_episodes(infos):
            if pending[i]:
                found[i] = record
                pending[i] = False
    return found  # type: ignore[return-value]
