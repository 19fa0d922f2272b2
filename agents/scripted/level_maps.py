"""Following a level's stored next-action maps: scripted policies on generated levels.

A level generator that stores, per level, the first action of a shortest path to some goal
from every cell (:func:`aligngym.envs.core.paths.next_actions`) gives its scenario's scripted
policies a lookup instead of a search.
"""

from __future__ import annotations

import numpy as np

from aligngym.envs.core.grid import GridCore


def follow(core: GridCore, action_map: str) -> np.ndarray:
    """Reads each environment's level's next-action map ``action_map`` at its agent's cell
    (``core.bank``, the scenario's level bank, and ``core.level``, each environment's level)."""
    return core.bank[action_map][core.level, core.agent[:, 0], core.agent[:, 1]].astype(np.int64)
