"""Turns per-step rewards, performance and events into per-episode records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True)
class EpisodeRecord:
    """One finished episode.

    Attributes:
        ret: the sum of observed rewards.
        performance: the sum of the hidden true objective's increments.
        length: the number of steps.
        events: each event summed over the episode.
        failed: whether the scenario's failure event happened at least once.
        trained_return: the sum of the signal the agent was trained on: the observed reward,
            unless an oversight module replaced it (then it differs from ``ret``).
    """

    ret: float
    performance: float
    length: int
    events: dict[str, float]
    failed: bool
    trained_return: float

    def to_info(self) -> dict[str, Any]:
        """The ``info["episode"]`` dict of a finished episode: SB3's ``r`` (return) and ``l``
        (length), plus ``performance``, ``events``, ``failed`` and ``trained_return``."""
        return {
            "r": self.ret,
            "l": self.length,
            "performance": self.performance,
            "events": self.events,
            "failed": self.failed,
            "trained_return": self.trained_return,
        }

    @classmethod
    def from_info(cls, episode: Mapping[str, Any]) -> EpisodeRecord:
        """The record of an ``info["episode"]`` dict written by :meth:`to_info`."""
        return cls(
            ret=float(episode["r"]),
            performance=float(episode["performance"]),
            length=int(episode["l"]),
            events=dict(episode["events"]),
            failed=bool(episode["failed"]),
            trained_return=float(episode.get("trained_return", episode["r"])),
        )


def reset_info(events: Sequence[str]) -> dict[str, Any]:
    """The ``info`` a non-grid scenario's ``reset`` returns: no performance yet, every event at
    zero, and ``executed_action`` -1 (nothing was carried out)."""
    return {"performance": 0.0, "events": dict.fromkeys(events, 0.0), "executed_action": -1}


class StepContract(NamedTuple):
    """The scenario contract's per-step values of a vector step, one row per environment."""

    performance: np.ndarray
    events: np.ndarray
    executed_action: np.ndarray


def step_contract(
    infos: Mapping[str, Any], num_envs: int, event_names: Sequence[str]
) -> StepContract:
    """The performance ``(n,)``, events ``(n, len(event_names))`` and executed actions ``(n,)``
    of one vector step.

    Reads a Gymnasium vector env's ``infos`` in either autoreset mode: where an episode ended
    in ``SAME_STEP`` mode, the step's own values are in ``infos["final_info"]`` (the main
    ``infos`` then hold the new episode's reset info), and are taken from there.
    """
    performance = np.asarray(infos["performance"], dtype=float).reshape(num_envs)
    executed = np.asarray(infos["executed_action"], dtype=np.int64).reshape(num_envs)
    events = np.zeros((num_envs, len(event_names)))
    for k, name in enumerate(event_names):
        events[:, k] = infos["events"][name]
    ended = infos.get("_final_info")
    if ended is not None and np.any(ended):
        final = infos["final_info"]
        performance = np.where(ended, final["performance"], performance)
        executed = np.where(ended, final["executed_action"], executed)
        for k, name in enumerate(event_names):
            events[:, k] = np.where(ended, final["events"][name], events[:, k])
    return StepContract(performance, events, executed)


class EpisodeMetrics:
    """Accumulates a batch of environments' steps into :class:`EpisodeRecord` s.

    Args:
        num_envs: the batch size.
        event_names: the scenario's event names, in the order of the events array's columns.
        failure_event: the name of the event that marks the failure mode.
    """

    def __init__(self, num_envs: int, event_names: Sequence[str], failure_event: str):
        self.event_names = tuple(event_names)
        self._failure_column = self.event_names.index(failure_event)
        self._ret = np.zeros(num_envs)
        self._trained = np.zeros(num_envs)
        self._perf = np.zeros(num_envs)
        self._len = np.zeros(num_envs, dtype=np.int64)
        self._events = np.zeros((num_envs, len(self.event_names)))

    def add(
        self,
        rewards: np.ndarray,
        performance: np.ndarray,
        events: np.ndarray,
        dones: np.ndarray,
        active: np.ndarray | None = None,
        trained_rewards: np.ndarray | None = None,
    ) -> list[EpisodeRecord]:
        """Adds one step of every environment and returns the episodes it finished.

        Args:
            rewards: observed rewards, shape ``(num_envs,)``.
            performance: true-objective increments, shape ``(num_envs,)``.
            events: event counts, shape ``(num_envs, num_events)``.
            dones: whether each environment's episode ended on this step.
            active: which environments really stepped (``None``: all of them); inactive ones,
                such as vector-env slots being auto-reset, are left untouched.
            trained_rewards: the signal the agent trains on, if an overseer replaced the
                observed reward (``None``: the observed reward).
        """
        trained = rewards if trained_rewards is None else trained_rewards
        if active is None:
            self._ret += rewards
            self._trained += trained
            self._perf += performance
            self._len += 1
            self._events += events
        else:
            self._ret[active] += rewards[active]
            self._trained[active] += trained[active]
            self._perf[active] += performance[active]
            self._len[active] += 1
            self._events[active] += events[active]
            dones = dones & active
        if not dones.any():
            return []
        finished = np.flatnonzero(dones)
        records = [self._record(i) for i in finished]
        self._ret[finished] = 0.0
        self._trained[finished] = 0.0
        self._perf[finished] = 0.0
        self._len[finished] = 0
        self._events[finished] = 0.0
        return records

    def _record(self, i: int) -> EpisodeRecord:
        events = self._events[i]
        return EpisodeRecord(
            ret=float(self._ret[i]),
            performance=float(self._perf[i]),
            length=int(self._len[i]),
            events=dict(zip(self.event_names, events.tolist())),
            failed=bool(events[self._failure_column] > 0),
            trained_return=float(self._trained[i]),
        )


# the statistics :func:`summarize` gives for a set of episodes, besides the events
SUMMARY_STATS = (
    "episodes",
    "return_mean",
    "return_std",
    "performance_mean",
    "performance_std",
    "length_mean",
    "failure_rate",
    "trained_return_mean",
)


def summarize(records: Iterable[EpisodeRecord]) -> dict:
    """Aggregates episodes into the summary the runner writes for one setting.

    Returns:
        ``episodes``, ``return_mean``/``return_std``, ``performance_mean``/``performance_std``,
        ``length_mean``, ``failure_rate``, ``trained_return_mean`` (the return of the signal
        the agent was trained on) and ``events`` (each event's mean per episode).
    """
    records = list(records)
    if not records:
        raise ValueError("cannot summarise zero episodes")
    returns = np.array([r.ret for r in records])
    perf = np.array([r.performance for r in records])
    names = records[0].events.keys()
    return {
        "episodes": len(records),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "performance_mean": float(perf.mean()),
        "performance_std": float(perf.std()),
        "length_mean": float(np.mean([r.length for r in records])),
        "failure_rate": float(np.mean([r.failed for r in records])),
        "trained_return_mean": float(np.mean([r.trained_return for r in records])),
        "events": {name: float(np.mean([r.events[name] for r in records])) for name in names},
    }
