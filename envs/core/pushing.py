"""Sokoban-style pushing: objects on the grid that the agent moves by walking into them.

The pushable objects of a batch (rocks, diamonds, boxes, ...) are an ``(n, k, 2)`` int64
array: the cell of each environment's ``k`` objects. :func:`push` is the agent's move in a
world of such objects; the scenarios that have them call it from their step kernels, so the
pushing rules are written once. Like the other kernel pieces it is compiled into the kernels
that call it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from aligngym.envs.core.kernels import EXECUTED_MOVES, move


@njit(cache=True)
def object_at(objects: np.ndarray, i: int, row: int, col: int) -> int:
    """Returns the index of environment ``i``'s object in cell (``row``, ``col``), -1 if none."""
    for k in range(objects.shape[1]):
        if objects[i, k, 0] == row and objects[i, k, 1] == col:
            return k
    return -1


@njit(cache=True)
def push(
    walls: np.ndarray,
    blockers: np.ndarray,
    agent: np.ndarray,
    objects: np.ndarray,
    i: int,
    action: int,
) -> int:
    """Moves agent ``i`` one cell along ``action``, pushing the object in its way.

    If one of ``objects`` lies in the cell the agent moves to, that object moves one cell
    further along ``action`` when that cell holds no wall, no other object and no blocker
    (``blockers``, an ``(n, h, w)`` bool grid of what objects cannot enter but the agent
    can, such as coins), and the agent follows it; otherwise neither moves. Without an object
    in the way this is :func:`~aligngym.envs.core.kernels.move`: a wall stops the agent.

    Returns:
        The index of the object pushed, or -1 if none moved.
    """
    row = agent[i, 0] + EXECUTED_MOVES[action, 0]
    col = agent[i, 1] + EXECUTED_MOVES[action, 1]
    pushed = object_at(objects, i, row, col)
    if pushed >= 0:
        beyond_row = row + EXECUTED_MOVES[action, 0]
        beyond_col = col + EXECUTED_MOVES[action, 1]
        if (
            walls[i, beyond_row, beyond_col]
            or blockers[i, beyond_row, beyond_col]
            or object_at(objects, i, beyond_row, beyond_col) >= 0
        ):
            return -1
        objects[i, pushed, 0] = beyond_row
        objects[i, pushed, 1] = beyond_col
    move(walls, agent, i, action)
    return pushed


@njit(cache=True)
def draw_objects(obs: np.ndarray, i: int, layers: np.ndarray, objects: np.ndarray) -> None:
    """Marks each object ``k`` of environment ``i`` in layer ``layers[k]`` of its
    observation."""
    for k in range(objects.shape[1]):
        obs[i, layers[k], objects[i, k, 0], objects[i, k, 1]] = 1
