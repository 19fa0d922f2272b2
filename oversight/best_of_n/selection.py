"""Best-of-N accuracy of a selector, from one pool of samples per problem.

Each problem has a pool of ``M`` sampled solutions. A selector scores them (a reward model),
or picks an answer by vote (majority), or knows the truth (the oracle). Best-of-N accuracy is
the expected correctness of its pick among ``N`` samples drawn from the pool, for every power
of two ``N <= M``:

- for scored selectors, computed exactly from the pool as the mean over every ``N``-subset
  (:func:`~aligngym.oversight.overoptimisation.estimators.best_of_n_estimate`, ties shared);
- for majority vote, estimated from ``draws`` random ``N``-subsets (ties broken at random);
- at ``N = M`` every selector picks from the whole pool: the per-problem records.

The same weights give Uesato et al.'s trace-error figure: the share of picks with a right
answer whose solution has a wrong step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aligngym.envs.process_supervision.arithmetic_chains import Solution
from aligngym.oversight.overoptimisation.estimators import best_of_n_estimate


@dataclass(frozen=True)
class Pick:
    """One problem's pick among its whole pool: is its answer right, does it have a wrong
    step."""

    correct: bool
    wrong_steps: bool


def sizes(pool: int) -> list[int]:
    """The ``N`` of the curve: powers of two up to ``pool``, and ``pool`` itself."""
    values = [2**k for k in range(int(np.log2(pool)) + 1)]
    return values if values[-1] == pool else [*values, pool]


def truths(pool: Sequence[Solution]) -> tuple[np.ndarray, np.ndarray]:
    """Per solution: its answer is right; it has a wrong step."""
    correct = np.array([s.correct for s in pool], dtype=float)
    wrong = np.array([s.wrong_steps > 0 for s in pool], dtype=float)
    return correct, wrong


def scored_curve(
    scores: np.ndarray, pool: Sequence[Solution], ns: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, Pick]:
    """For each ``N``: the expected correctness of the highest-scored of ``N`` samples and the
    expected share of picks right with a wrong step; and the pick among the whole pool."""
    correct, wrong = truths(pool)
    accuracy = np.array([best_of_n_estimate(scores, correct, n) for n in ns])
    lucky = np.array([best_of_n_estimate(scores, correct * wrong, n) for n in ns])
    best = int(np.argmax(scores))
    return accuracy, lucky, Pick(bool(correct[best]), bool(wrong[best]))


def majority_curve(
    pool: Sequence[Solution], ns: Sequence[int], draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, Pick]:
    """As :func:`scored_curve` for majority vote: the most frequent answer among ``N`` samples
    (ties at random), its solution one of the samples that gave it (at random)."""
    correct, wrong = truths(pool)
    answers = np.array([s.answer for s in pool])
    accuracy, lucky = [], []
    for n in ns:
        picks = [
            _vote(answers, rng.choice(len(pool), n, replace=False), rng)
            for _ in range(1 if n == len(pool) else draws)
        ]
        accuracy.append(np.mean([correct[i] for i in picks]))
        lucky.append(np.mean([correct[i] * wrong[i] for i in picks]))
    whole = _vote(answers, np.arange(len(pool)), rng)
    return np.array(accuracy), np.array(lucky), Pick(bool(correct[whole]), bool(wrong[whole]))


def _vote(answers: np.ndarray, subset: np.ndarray, rng: np.random.Generator) -> int:
    """The index (in the pool) of a sample of ``subset`` that gave its most frequent answer."""
    counts = Counter(answers[subset].tolist())
    top = max(counts.values())
    winners = [answer for answer, count in counts.items() if count == top]
    winner = winners[int(rng.integers(len(winners)))]
    return int(rng.choice(subset[answers[subset] == winner]))


def oracle_scores(pool: Sequence[Solution]) -> np.ndarray:
    """The oracle's scores: right answers with every step right first, then other right
    answers, then the rest (the ceiling: pass@N)."""
    correct, wrong = truths(pool)
    return 2.0 * correct * (1.0 - wrong) + correct
