"""Unbiased evaluation of an agent on one setting of a scenario.

Each evaluation episode gets its own environment of a batch and is run to its end; only that
first episode of each environment counts. Taking "the first ``n`` episodes to finish" out of a
running batch instead would over-represent short episodes (an agent that dies early would look
like it finishes more often), so it is never done here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from aligngym.agents.base import Agent
from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.registry import make_sb3_vec_env


def evaluate(
    agent: Agent,
    env_id: str,
    settings: Mapping[str, Any],
    episodes: int,
    seed: int,
    num_envs: int | None = None,
) -> list[EpisodeRecord]:
    """Runs ``agent`` for exactly ``episodes`` episodes of ``env_id`` with ``settings``.

    Args:
        agent: anything with ``act(obs, core) -> actions``.
        env_id: the scenario.
        settings: the scenario's constructor settings (one of its train/test settings).
        episodes: how many episodes to run and return.
        seed: seeds the environments; the same seed gives the same episodes.
        num_envs: at most this many environments at once (default: all ``episodes`` at
            once); more episodes run as further batches of the same generator.

    Returns:
        One record per episode, in environment order.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    batch = episodes if num_envs is None else max(1, min(int(num_envs), episodes))
    env = make_sb3_vec_env(env_id, batch, seed=seed, **dict(settings))
    records: list[EpisodeRecord] = []
    while len(records) < episodes:
        wanted = min(batch, episodes - len(records))
        records.extend(_one_episode_each(agent, env, wanted))
    env.close()
    return records


def _one_episode_each(agent: Agent, env, wanted: int) -> list[EpisodeRecord]:
    """Resets ``env`` and runs its first ``wanted`` environments to the end of one episode."""
    obs = env.reset()
    found: list[EpisodeRecord | None] = [None] * wanted
    pending = np.zeros(env.num_envs, dtype=bool)
    pending[:wanted] = True
    while pending.any():
        actions = np.asarray(agent.act(obs, env.core)).reshape(env.num_envs)
        obs, _, dones, infos = env.step(actions)
        for i in np.flatnonzero(dones & pending).tolist():
            found[i] = EpisodeRecord.from_info(infos[i]["episode"])
            pending[i] = False
    return found  # type: ignore[return-value]
