"""The search debater: minimax look-ahead over the opponent's replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aligngym.agents.debate.base import Debater, side
from aligngym.envs.core.debate import DebateEnv
from aligngym.oversight.debate.judges import Judge


class SearchDebater(Debater):
    """Looks ``depth`` moves ahead (its own and its opponent's, in the game's turn order) and
    plays the move with the best minimax value, the judge's leaning after the last move
    searched (:meth:`~DebateEnv.honest_margin`) as the value of a leaf. At every node only the
    ``width`` moves that look best one move ahead are searched further (Irving et al. search
    with MCTS; this is the deterministic depth-limited form). With depth 1 it is greedy.

    Args:
        env_id: the scenario.
        seed: the run's seed (unused: the search is deterministic).
        depth: moves searched ahead, at least 1 (fewer near the end of the game).
        width: moves searched further at each node, at least 1.
    """

    def __init__(self, env_id: str, seed: int = 0, depth: int = 6, width: int = 3):
        super().__init__(env_id, seed)
        if int(depth) < 1 or int(width) < 1:
            raise ValueError(f"depth and width must be >= 1, got depth={depth}, width={width}")
        self.depth, self.width = int(depth), int(width)

    def act(self, env: DebateEnv, agent: str, judge: Judge) -> Any:
        movers = env.upcoming(self.depth)
        moves, values = self._search(env, judge, [], movers)
        return moves[int(np.argmax(side(env, agent) * values))]

    def _search(
        self, env: DebateEnv, judge: Judge, prefix: list[Any], movers: Sequence[str]
    ) -> tuple[list[Any], np.ndarray]:
        """The moves of ``movers[0]`` after ``prefix`` and each one's minimax value (the
        honest margin under best play of ``movers[1:]``); where more movers follow, the moves
        not searched further get the worst value for their mover, so they are never chosen."""
        moves = env.legal_moves(movers[0], after=prefix)
        views = env.judge_views_after([[*prefix, move] for move in moves])
        values = env.honest_margin(judge.beliefs(views))
        if len(movers) > 1:
            mover, replier = side(env, movers[0]), side(env, movers[1])
            best = np.argsort(-mover * values, kind="stable")[: self.width]
            searched = np.full(len(moves), -mover * np.inf)  # the rest: never chosen
            for index in best:
                _, replies = self._search(env, judge, [*prefix, moves[index]], movers[1:])
                searched[index] = (
                    (replier * replies).max() * replier if len(replies) else values[index]
                )
            values = searched
        return moves, values

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "depth": self.depth, "width": self.width}
