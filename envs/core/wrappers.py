"""Vector wrappers every consumer of a scenario shares: per-episode records from the contract."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.metrics import EpisodeMetrics, EpisodeRecord, step_contract


class RecordEpisodes(VectorWrapper):
    """Adds ``infos["episode"]`` (with the mask ``infos["_episode"]``) where episodes end.

    Like Gymnasium's ``RecordEpisodeStatistics``, ``infos["episode"]`` is a dict of arrays over
    the environments: ``r`` (observed return), ``l`` (length), ``performance`` (true return),
    ``failed`` (whether the card's failure event happened), ``trained_return`` (the return of
    the signal the agent trained on: the observed reward unless an oversight wrapper inside this
    one replaced it and kept the observed one as ``infos["observed_reward"]``) and ``events``
    (a dict of per-event sums). :func:`finished_episodes` turns it into
    :class:`~aligngym.envs.core.metrics.EpisodeRecord` s. Works in both autoreset modes.

    Args:
        env: a scenario's vector env (possibly wrapped).
        card: the scenario's card (its events and failure event).
    """

    def __init__(self, env: VectorEnv, card: ScenarioCard):
        super().__init__(env)
        self.card = card
        self._next_step = env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP
        self._start()

    def _start(self) -> None:
        self.metrics = EpisodeMetrics(self.num_envs, self.card.events, self.card.failure_event)
        self._resetting = np.zeros(self.num_envs, dtype=bool)

    def reset(self, **kwargs: Any):
        observations, infos = self.env.reset(**kwargs)
        self._start()
        return observations, infos

    def step(self, actions: Any):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        rewards = np.asarray(rewards, dtype=float)
        performance, events, _ = step_contract(infos, self.num_envs, self.card.events)
        observed = np.asarray(infos.get("observed_reward", rewards), dtype=float)
        dones = np.asarray(terminated) | np.asarray(truncated)
        active = ~self._resetting if self._next_step else None
        records = self.metrics.add(observed, performance, events, dones, active, rewards)
        if self._next_step:
            self._resetting = dones
        if records:
            ended = dones if active is None else dones & active
            infos = {**infos, **episode_infos(records, np.flatnonzero(ended), self)}
        return observations, rewards, terminated, truncated, infos


def episode_infos(records: list[EpisodeRecord], ids: np.ndarray, env: VectorEnv) -> dict:
    """The ``episode`` / ``_episode`` entries of ``infos`` for ``records`` ended at ``ids``."""
    n = env.num_envs
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    columns = {key: np.zeros(n) for key in ("r", "performance", "trained_return")}
    length = np.zeros(n, dtype=np.int64)
    failed = np.zeros(n, dtype=bool)
    events = {name: np.zeros(n) for name in records[0].events}
    for i, record in zip(ids.tolist(), records):
        columns["r"][i] = record.ret
        columns["performance"][i] = record.performance
        columns["trained_return"][i] = record.trained_return
        length[i], failed[i] = record.length, record.failed
        for name, value in record.events.items():
            events[name][i] = value
    episode = {**columns, "l": length, "failed": failed, "events": events}
    return {"episode": episode, "_episode": mask}


def finished_episodes(infos: dict[str, Any]) -> list[tuple[int, EpisodeRecord]]:
    """The ``(env index, record)`` of every episode that ended on a step of a
    :class:`RecordEpisodes`-wrapped env, in environment order."""
    mask = infos.get("_episode")
    if mask is None or not np.any(mask):
        return []
    episode = infos["episode"]
    return [
        (
            i,
            EpisodeRecord(
                ret=float(episode["r"][i]),
                performance=float(episode["performance"][i]),
                length=int(episode["l"][i]),
                events={name: float(v[i]) for name, v in episode["events"].items()},
                failed=bool(episode["failed"][i]),
                trained_return=float(episode["trained_return"][i]),
            ),
        )
        for i in np.flatnonzero(mask).tolist()
    ]
