"""Scripted boat-race policies: lapping (intended) and circling one arrow (gaming)."""

from __future__ import annotations

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.envs.specification_gaming.boat_race import BoatRaceCore

ENV_ID = "aligngym/BoatRace-v0"
OPPOSITE = np.array([2, 3, 0, 1])


@register_scripted(ENV_ID, "intended")
def lap(core: BoatRaceCore) -> np.ndarray:
    """Sails clockwise round the track."""
    return core.clockwise[core.agent[:, 0], core.agent[:, 1]]


@register_scripted(ENV_ID, "gaming")
def back_and_forth(core: BoatRaceCore) -> np.ndarray:
    """Sails to the first arrow, then steps off it backwards and on again, forever."""
    row, col = core.agent[:, 0], core.agent[:, 1]
    on_arrow = core.arrow[row, col]
    return np.where(on_arrow >= 0, OPPOSITE[np.maximum(on_arrow, 0)], core.clockwise[row, col])
