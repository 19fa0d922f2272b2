"""Perfect-maze generation on small boolean wall grids.

This is plain Python on purpose: it runs once per level, when a level bank is built
(:func:`aligngym.envs.core.level_bank`), never while environments step. Shortest paths in the
mazes come from :mod:`aligngym.envs.core.paths`.
"""

from __future__ import annotations

import numpy as np


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
