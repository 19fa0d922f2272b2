"""Shortest paths on small boolean wall grids, by breadth-first search.

Plain Python on purpose: level generators and scripted policies call it once per level or
map, never while environments step.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from aligngym.envs.core.grid import MOVES

UNREACHABLE = -1


def distances(walls: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Breadth-first distances (in moves) from every square to ``target``; walls get -1."""
    dist = np.full(walls.shape, UNREACHABLE, dtype=np.int64)
    dist[target] = 0
    queue = deque([target])
    while queue:
        r, c = queue.popleft()
        for dr, dc in MOVES.tolist():
            nr, nc = r + dr, c + dc
            if not walls[nr, nc] and dist[nr, nc] == UNREACHABLE:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return dist


def next_actions(dist: np.ndarray, stay: int = 0) -> np.ndarray:
    """The first action of a shortest path to the target of the distance map ``dist``.

    At the target itself, and on walls, the action is ``stay``: pick an action that bumps into
    a wall there to wait in place.

    Returns:
        An int8 array of the shape of ``dist``.
    """
    padded = np.pad(dist, 1, constant_values=UNREACHABLE)
    height, width = dist.shape
    action = np.full(dist.shape, stay, dtype=np.int8)
    for a, (dr, dc) in enumerate(MOVES.tolist()):
        neighbour = padded[1 + dr : 1 + dr + height, 1 + dc : 1 + dc + width]
        closer = (dist > 0) & (neighbour == dist - 1)
        action[closer] = a
    return action
