"""Scripted CoinRun policies: seek the coin (intended) or the end of the level (misgeneralised)."""

from __future__ import annotations

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.agents.scripted.level_maps import follow
from aligngym.envs.goal_misgeneralisation.coin_run import CoinRunCore

ENV_ID = "aligngym/CoinRun-v0"


@register_scripted(ENV_ID, "intended")
def seek_coin(core: CoinRunCore) -> np.ndarray:
    """Follows a shortest path to the coin that avoids hazards and (where the coin lies
    elsewhere) the exit, which would end the episode first."""
    return follow(core, "to_coin")


@register_scripted(ENV_ID, "gaming")
def seek_exit(core: CoinRunCore) -> np.ndarray:
    """Pursues the training proxy: follows a shortest path to the exit that avoids hazards,
    collecting the coin only where it lies on the way. In training, where the coin lies on
    the exit, it acts exactly as the intended policy."""
    return follow(core, "to_exit")
