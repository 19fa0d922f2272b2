"""The two reference points every oversight method is measured between.

- :class:`NoOversight` (``oversight=none``): the agent trains on the observed reward, the
  possibly misspecified signal: the **floor**.
- :class:`TrueReward` (``oversight=true_reward``): an oracle overseer, the agent trains on the
  hidden performance: the **ceiling**.

``aligngym report`` puts every method between them as gap recovered,
``(perf - perf_floor) / (perf_ceiling - perf_floor)``.
"""

from __future__ import annotations

import numpy as np

from aligngym.oversight.base import OverseenStep, Oversight


class NoOversight(Oversight):
    """No overseer: the agent trains on the scenario's observed reward (the floor)."""

    name = "none"
    role = "floor"


class TrueReward(Oversight):
    """An oracle overseer: the agent trains on the hidden performance (the ceiling)."""

    name = "true_reward"
    role = "ceiling"

    def signal(self, step: OverseenStep) -> np.ndarray:
        return step.performance
