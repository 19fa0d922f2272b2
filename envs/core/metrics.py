"""Turns per-step rewards, performance and events into per-episode records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    """

    ret: float
    performance: float
    length: int
    events: dict[str, float]
    failed: bool

    def to_info(self) -> dict[str, Any]:
        """The ``info["episode"]`` dict of a finished episode: SB3's ``r`` (return) and ``l``
        (length), plus ``performance``, ``events`` and ``failed``."""
        return {
            "r": self.ret,
            "l": self.length,
            "performance": self.performance,
            "events": self.events,
            "failed": self.failed,
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
        )


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
    ) -> list[EpisodeRecord]:
        """Adds one step of every environment and returns the episodes it finished.

        Args:
            rewards: observed rewards, shape ``(num_envs,)``.
            performance: true-objective increments, shape ``(num_envs,)``.
            events: event counts, shape ``(num_envs, num_events)``.
            dones: whether each environment's episode ended on this step.
            active: which environments really stepped (``None``: all of them); inactive ones,
                such as vector-env slots being auto-reset, are left untouched.
        """
        if active is None:
            self._ret += rewards
            self._perf += performance
            self._len += 1
            self._events += events
        else:
            self._ret[active] += rewards[active]
            self._perf[active] += performance[active]
            self._len[active] += 1
            self._events[active] += events[active]
            dones = dones & active
        if not dones.any():
            return []
        finished = np.flatnonzero(dones)
        records = [self._record(i) for i in finished]
        self._ret[finished] = 0.0
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
)


def summarize(records: Iterable[EpisodeRecord]) -> dict:
    """Aggregates episodes into the summary the runner writes for one setting.

    Returns:
        ``episodes``, ``return_mean``/``return_std``, ``performance_mean``/``performance_std``,
        ``length_mean``, ``failure_rate`` and ``events`` (each event's mean per episode).
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
        "events": {name: float(np.mean([r.events[name] for r in records])) for name in names},
    }
