"""The noisy solver: writes arithmetic-chain solutions step by step, with realistic mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aligngym.agents.reasoning.base import SolutionGenerator
from aligngym.envs.core.settings import check_float
from aligngym.envs.process_supervision.arithmetic_chains import (
    Problem,
    Solution,
    Step,
    apply,
)

#: the sizes of the slips: small ones, and a dropped or added ten
SLIPS = np.array([-10, -2, -1, 1, 2, 10])


class NoisySolver(SolutionGenerator):
    """Samples solutions of :class:`~aligngym.envs.process_supervision.arithmetic_chains.
    ArithmeticChains` problems; at each step, independently:

    - at the problem's trap, with probability ``trap``, it uses the tempting wrong operator
      (the mistake wrong answers cluster on; carried on faithfully after);
    - with probability ``slip``, it miscomputes the result by a small amount (carried on);
    - with probability ``miscopy``, it starts the step from a miscopied value (carried on);
    - with probability ``cancel``, it writes a wrong result but goes on from the right one, so
      that the answer can still be right with two wrong steps (Uesato et al.'s trace errors).

    Args:
        env_id: the task (only the arithmetic chains).
        seed: the run's seed (the study draws its own generators from it).
        slip, miscopy, cancel, trap: the probabilities above, each in [0, 1].
    """

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        slip: float = 0.06,
        miscopy: float = 0.03,
        cancel: float = 0.04,
        trap: float = 0.35,
    ):
        super().__init__(env_id, seed)
        self.slip = check_float("slip", slip, 0.0, 1.0)
        self.miscopy = check_float("miscopy", miscopy, 0.0, 1.0)
        self.cancel = check_float("cancel", cancel, 0.0, 1.0)
        self.trap = check_float("trap", trap, 0.0, 1.0)

    def sample(
        self, problems: Sequence[Problem], samples: int, rng: np.random.Generator
    ) -> list[list[Solution]]:
        """``samples`` solutions of each problem, drawn with ``rng``."""
        return [[self._solve(problem, rng) for _ in range(samples)] for problem in problems]

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        steps, carried = [], problem.start
        for k, (operator, operand) in enumerate(zip(problem.operators, problem.operands)):
            draws = rng.random(4)
            left = carried + int(rng.choice(SLIPS)) if draws[0] < self.miscopy else carried
            if k == problem.trap and draws[1] < self.trap:
                operator = problem.trap_operator
            result = apply(left, operator, operand)
            if draws[2] < self.slip:
                result += int(rng.choice(SLIPS))
            written = result + int(rng.choice(SLIPS)) if draws[3] < self.cancel else result
            steps.append(Step(left, operator, operand, written))
            carried = result  # a cancelled slip: the next step goes on from the right value
        return Solution(problem, tuple(steps))

    def settings(self) -> dict[str, Any]:
        return {
            "class": type(self).__qualname__,
            "env_id": self.env_id,
            "seed": self.seed,
            "slip": self.slip,
            "miscopy": self.miscopy,
            "cancel": self.cancel,
            "trap": self.trap,
        }
