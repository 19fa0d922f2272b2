"""The greedy debater: each move, the one that most moves the judge towards its side."""

from __future__ import annotations

from typing import Any

import numpy as np

from aligngym.agents.debate.base import Debater, side
from aligngym.envs.core.debate import DebateEnv
from aligngym.oversight.debate.judges import Judge


class GreedyDebater(Debater):
    """Plays the legal move after which the judge leans most to its side (Irving et al.'s
    greedy baseline): the largest :meth:`~DebateEnv.honest_margin` for an honest seat, the
    smallest for the others; ties go to the first move listed."""

    def act(self, env: DebateEnv, agent: str, judge: Judge) -> Any:
        moves = env.legal_moves(agent)
        views = env.judge_views_after([[move] for move in moves])
        values = side(env, agent) * env.honest_margin(judge.beliefs(views))
        return moves[int(np.argmax(values))]
