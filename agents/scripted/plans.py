"""Fixed plans: scripted policies for deterministic levels that play one move a step.

A plan is a string of moves, one letter per action in the grid scenarios' action order:
``U`` up, ``R`` right, ``D`` down, ``L`` left. At step ``t`` (the core's step count) a planned
policy plays the plan's ``t``-th move; past its end the last move repeats, so a plan that
must fill a whole episode ends with a move that changes nothing (into a wall, or a push that
is blocked).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from aligngym.envs.core.grid import ACTION_NAMES

LETTERS = "".join(name[0].upper() for name in ACTION_NAMES)


@cache
def plan_actions(plan: str) -> np.ndarray:
    """The actions of ``plan``, a string of move letters (read-only)."""
    actions = np.array([LETTERS.index(move) for move in plan], dtype=np.int64)
    actions.flags.writeable = False
    return actions


def play(plan: str, t: np.ndarray) -> np.ndarray:
    """The move of ``plan`` at each step count of ``t``; past its end, its last move."""
    actions = plan_actions(plan)
    return actions[np.minimum(t, len(actions) - 1)]
