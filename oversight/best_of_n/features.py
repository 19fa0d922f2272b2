"""What a reward model reads of an arithmetic-chain solution: the problem and the written steps,
as numbers, never the truth.

Each step becomes one row: the problem's operator (one-hot) and operand at that step, the
written step's left value, operator (one-hot; all zeros for a step a language model's reply
lacked), operand and result, and the result written before it (the start for the first
step). Values enter twice, scaled (``/ SCALE``) and as a
signed logarithm, which lets a small network compare both sums and products. Checking a step
is left to the model: no feature computes whether it is right.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aligngym.envs.process_supervision.arithmetic_chains import OPERATORS, Solution

SCALE = 100.0
#: per value: scaled and signed log
VALUE_FEATURES = 2
#: left, operand, result, previous result; the problem's operand
VALUES_PER_STEP = 5
STEP_FEATURES = 2 * len(OPERATORS) + VALUES_PER_STEP * VALUE_FEATURES
#: the index of a written operator that is none of OPERATORS
UNKNOWN = len(OPERATORS)


def _values(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.stack([values / SCALE, np.sign(values) * np.log1p(np.abs(values))], axis=-1)


def step_features(solutions: Sequence[Solution]) -> np.ndarray:
    """``(len(solutions), steps, STEP_FEATURES)`` float32: one row per written step."""
    rows = []
    for solution in solutions:
        problem, previous = solution.problem, solution.problem.start
        for k, step in enumerate(solution.steps):
            rows.append(
                (
                    OPERATORS.index(problem.operators[k]),
                    OPERATORS.index(step.operator) if step.operator in OPERATORS else UNKNOWN,
                    problem.operands[k],
                    step.left,
                    step.operand,
                    step.result,
                    previous,
                )
            )
            previous = step.result
    table = np.array(rows, dtype=np.float64).reshape(len(solutions), -1, 7)
    eye = np.eye(len(OPERATORS) + 1, len(OPERATORS))  # the row of UNKNOWN is all zeros
    features = np.concatenate(
        [
            eye[table[..., 0].astype(int)],
            eye[table[..., 1].astype(int)],
            _values(table[..., 2:]).reshape(*table.shape[:2], -1),
        ],
        axis=-1,
    )
    return features.astype(np.float32)
