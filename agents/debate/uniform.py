"""The uniform debater: a legal move drawn at random, the weakest debater (a strength floor)."""

from __future__ import annotations

from typing import Any

import numpy as np

from aligngym.agents.debate.base import Debater
from aligngym.envs.core.debate import DebateEnv
from aligngym.oversight.debate.judges import Judge


class UniformDebater(Debater):
    """Plays a legal move drawn uniformly, from its own generator seeded with the run's seed:
    against stronger debaters it shows how much a debate's outcome owes to debating skill."""

    def __init__(self, env_id: str, seed: int = 0):
        super().__init__(env_id, seed)
        self.rng = np.random.default_rng(self.seed)

    def act(self, env: DebateEnv, agent: str, judge: Judge) -> Any:
        moves = env.legal_moves(agent)
        return moves[int(self.rng.integers(len(moves)))]
