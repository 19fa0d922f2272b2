"""Perfect-maze generation and breadth-first search on small boolean wall grids.

This is plain Python on purpose: it runs once per level, when a level bank is built
(:func:`aligngym.envs.core.level_bank`), never while environments step.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from aligngym.envs.core.grid import MOVES

UNREACHABLE = -1


def perfect_maze(size: int, rng: np.random.Generator) -> np.ndarray:
    """Carves a perfect maze (one path between any two free cells) with randomised Kruskal.

    The grid is ``size`` x ``size`` squares, border walls included. Lattice cells sit at odd
    coordinates, ``(size - 1) // 2`` to a side; the square between two neighbouring lattice
    cells is a wall unless it was opened. Kruskal's algorithm (the one procgen's maze uses)
    opens the walls between cells in random order whenever they join two unconnected parts:
    its mazes branch often and have many short dead ends.

    Args:
        size: the side of the grid, odd and at least 5.
        rng: the generator that chooses the maze.

    Returns:
        The walls, an ``(size, size)`` bool array.
    """
    if size < 5 or size % 2 == 0:
        raise ValueError(f"a maze side must be odd and at least 5, got {size}")
    cells = (size - 1) // 2
    walls = np.ones((size, size), dtype=bool)
    walls[1::2, 1::2] = False
    parent = list(range(cells * cells))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    edges = [
        (r, c, r + dr, c + dc)
        for r in range(cells)
        for c in range(cells)
        for dr, dc in ((0, 1), (1, 0))
        if r + dr < cells and c + dc < cells
    ]
    for index in rng.permutation(len(edges)):
        r, c, nr, nc = edges[index]
        a, b = root(r * cells + c), root(nr * cells + nc)
        if a != b:
            parent[a] = b
            walls[r + nr + 1, c + nc + 1] = False
    return walls


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
