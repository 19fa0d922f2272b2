"""Shortest paths on small boolean wall grids, by breadth-first search.

:func:`distances`, :func:`next_actions` and :func:`shortest_path` are plain Python on purpose:
level generators call them once per level or map, never while environments step.
:func:`batched_distances` and :func:`step_towards` search a whole batch at once with a few
numpy operations per distance, for scripted policies whose targets change during an episode
(keys taken, apples eaten) and so must search afresh every step.
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


def shortest_path(
    walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]
) -> list[tuple[int, int]]:
    """The cells of one shortest path from ``start`` to ``goal`` (both included) that crosses
    no ``walls`` cell (any cells to avoid); ``goal`` must be reachable."""
    actions = next_actions(distances(walls, goal))
    path = [start]
    while path[-1] != goal:
        row, col = path[-1]
        d_row, d_col = MOVES[actions[row, col]]
        path.append((row + int(d_row), col + int(d_col)))
    return path


def batched_distances(passable: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Breadth-first distances (in moves) from every cell to the nearest target, per environment.

    Args:
        passable: ``(n, h, w)`` bool, the cells a path may cross (targets outside them are
            ignored); the grid's border must not be passable.
        targets: ``(n, h, w)`` bool, the cells to reach.

    Returns:
        ``(n, h, w)`` int64 distances; :data:`UNREACHABLE` where no path leads to a target.
    """
    frontier = targets & passable
    reached = frontier.copy()
    dist = np.where(frontier, 0, UNREACHABLE)
    step = 0
    while frontier.any():
        step += 1
        grown = np.zeros_like(frontier)
        grown[:, 1:] |= frontier[:, :-1]
        grown[:, :-1] |= frontier[:, 1:]
        grown[:, :, 1:] |= frontier[:, :, :-1]
        grown[:, :, :-1] |= frontier[:, :, 1:]
        frontier = grown & passable & ~reached
        reached |= frontier
        dist[frontier] = step
    return dist


def step_towards(
    walls: np.ndarray, agent: np.ndarray, targets: np.ndarray, avoid: np.ndarray | None = None
) -> np.ndarray:
    """The first move of a shortest path from each agent to its nearest target cell that
    crosses no ``avoid`` cell; among equally short paths, the first move in action order.

    Args:
        walls: ``(n, h, w)`` bool, the batch's walls (border included).
        agent: ``(n, 2)`` the agents' cells.
        targets: ``(n, h, w)`` bool, the cells to reach.
        avoid: ``(n, h, w)`` bool, the cells to steer round (the agent's own cell is never
            avoided), or ``None``.

    Returns:
        ``(n,)`` int64 actions; -1 where no target can be reached (or the agent stands on one).
    """
    passable = ~walls if avoid is None else ~walls & ~avoid
    arange = np.arange(len(agent))
    rows, cols = agent[:, 0], agent[:, 1]
    passable[arange, rows, cols] = True
    dist = batched_distances(passable, targets)
    own = dist[arange, rows, cols]
    actions = np.full(len(agent), -1, dtype=np.int64)
    for action, (d_row, d_col) in enumerate(MOVES):
        # walls and unreachable cells are UNREACHABLE: never one step closer
        closer = (actions < 0) & (own > 0) & (dist[arange, rows + d_row, cols + d_col] == own - 1)
        actions[closer] = action
    return actions
