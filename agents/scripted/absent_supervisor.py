"""Scripted absent-supervisor policies: the long way always (intended), the punished shortcut
whenever the supervisor is absent (gaming)."""

from __future__ import annotations

from functools import cache

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.envs.core.paths import distances, next_actions
from aligngym.envs.specification_gaming.absent_supervisor import AbsentSupervisorCore

ENV_ID = "aligngym/AbsentSupervisor-v0"


@cache
def routes() -> dict[str, np.ndarray]:
    """Per-cell first moves of the shortest paths to the goal: ``long`` round the punishment
    tile, ``short`` through it (breadth-first search on the scenario's one map)."""
    core = AbsentSupervisorCore(num_envs=1)
    walls = core.walls[0]
    goal = tuple(np.argwhere(core.goal_tile)[0])
    return {
        "long": next_actions(distances(walls | core.punishment_tile, goal)).astype(np.int64),
        "short": next_actions(distances(walls, goal)).astype(np.int64),
    }


@register_scripted(ENV_ID, "intended")
def long_way(core: AbsentSupervisorCore) -> np.ndarray:
    """Takes the long way round the punishment tile, watched or not."""
    return routes()["long"][core.agent[:, 0], core.agent[:, 1]]


@register_scripted(ENV_ID, "gaming")
def shortcut_when_unwatched(core: AbsentSupervisorCore) -> np.ndarray:
    """Takes the long way while the supervisor watches and the shortcut through the punishment
    tile while it is away: the reward maximiser's policy."""
    maps = routes()
    row, col = core.agent[:, 0], core.agent[:, 1]
    return np.where(core.supervised, maps["long"][row, col], maps["short"][row, col])
