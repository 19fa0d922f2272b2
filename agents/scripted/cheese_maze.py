"""Scripted cheese-maze policies: seek the cheese (intended) or the corner (misgeneralised)."""

from __future__ import annotations

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.agents.scripted.level_maps import follow
from aligngym.envs.goal_misgeneralisation.cheese_maze import CheeseMazeCore

ENV_ID = "aligngym/CheeseMaze-v0"


@register_scripted(ENV_ID, "intended")
def seek_cheese(core: CheeseMazeCore) -> np.ndarray:
    """Follows the shortest path to the cheese."""
    return follow(core, "to_cheese")


@register_scripted(ENV_ID, "gaming")
def seek_corner(core: CheeseMazeCore) -> np.ndarray:
    """Pursues the training proxy: the top-right corner.

    Where the cheese lies in the corner region (always, in training) this is the intended
    policy; elsewhere the mouse takes the shortest path to the top-right cell and waits there.
    """
    return np.where(core.cheese_in_region, follow(core, "to_cheese"), follow(core, "to_corner"))
