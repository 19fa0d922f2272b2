"""Best-of-N selection as oversight modules: ``oversight=process_rm|outcome_rm|majority_vote|
pass_at_n`` on a task of step-by-step solutions (``env=arithmetic_chains``).

A study (:meth:`BestOfN.study`) goes:

1. **labels**: the generator (``agent=``) writes ``label_samples`` solutions of each problem of
   the train setting; a reward model is fitted to their ground-truth labels (the process model
   to one label a step, the outcome model to one label a solution);
2. **pools**: the generator writes ``max_n`` fresh solutions of each problem of each setting
   (the train setting's first ``pool_problems`` problems, the test setting's all);
3. **selection**: best-of-N accuracy for every power of two ``N <= max_n``
   (:mod:`~aligngym.oversight.best_of_n.selection`), one row per ``N`` (``timesteps`` is ``N``),
   and each problem's pick among its whole pool as its episode record (performance: the picked
   answer is right; the failure event: right with a wrong step).

``majority_vote`` (no reward model) is the floor of gap recovered and ``pass_at_n`` (an oracle
that picks a right answer whenever one was sampled) the ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.process_supervision.arithmetic_chains import ArithmeticChains, Solution
from aligngym.oversight.base import OversightModule, StudyResult
from aligngym.oversight.best_of_n import selection
from aligngym.oversight.best_of_n.reward_models import OutcomeRewardModel, ProcessRewardModel

SELECTORS = {
    "process": ProcessRewardModel,
    "outcome": OutcomeRewardModel,
    "majority": None,
    "oracle": None,
}
ROLES = {"majority": "floor", "oracle": "ceiling"}
#: random N-subsets per problem and N that estimate majority vote's accuracy
MAJORITY_DRAWS = 64


class BestOfN(OversightModule):
    """One best-of-N selector (see the module docstring).

    Args:
        selector: ``process``, ``outcome`` (a reward model), ``majority`` or ``oracle``.
        max_n: the pool of samples per problem, the largest ``N``.
        label_samples: solutions per train problem the reward model is fitted on.
        pool_problems: train problems whose pools are evaluated (the train setting's figures).
        hidden, epochs, batch_size, learning_rate: the reward model's network and its fit.
    """

    scenario_kind: ClassVar[str] = "dataset"
    task_type: ClassVar[type] = ArithmeticChains
    names: ClassVar[dict[str, str]] = {
        "process": "process_rm",
        "outcome": "outcome_rm",
        "majority": "majority_vote",
        "oracle": "pass_at_n",
    }

    def __init__(
        self,
        selector: str,
        max_n: int = 64,
        label_samples: int = 4,
        pool_problems: int = 200,
        hidden: Sequence[int] = (256, 256, 256),
        epochs: int = 80,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
    ):
        if selector not in SELECTORS:
            raise ValueError(f"selector must be one of {list(SELECTORS)}, got {selector!r}")
        for key, value in (
            ("max_n", max_n),
            ("label_samples", label_samples),
            ("pool_problems", pool_problems),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
        self.selector, self.name = selector, self.names[selector]
        self.role = ROLES.get(selector, "method")
        self.max_n, self.label_samples, self.pool_problems = max_n, label_samples, pool_problems
        self.model_settings = {
            "hidden": tuple(hidden),
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
        }
        self._metrics: dict[str, float] = {}

    def study(
        self, generator: Any, tasks: Mapping[str, ArithmeticChains], seed: int
    ) -> StudyResult:
        """Runs the study on the ``train`` and ``test`` tasks with ``generator``."""
        streams = np.random.SeedSequence(seed).spawn(4)
        model = None
        if SELECTORS[self.selector] is not None:
            model = SELECTORS[self.selector](**self.model_settings, seed=seed)
            rng = np.random.default_rng(streams[0])
            labelled = generator.sample(tasks["train"].problems, self.label_samples, rng)
            self._metrics = model.fit([s for pool in labelled for s in pool])
        ns = selection.sizes(self.max_n)
        result = StudyResult(records={}, metrics=self.metrics())
        curves = {}
        for k, (setting, task) in enumerate(tasks.items(), start=1):
            problems = task.problems[: self.pool_problems] if setting == "train" else task.problems
            rng = np.random.default_rng(streams[k])
            pools = generator.sample(problems, self.max_n, rng)
            curves[setting], result.records[setting] = self._select(pools, model, ns, rng)
        for i, n in enumerate(ns):
            row: dict[str, Any] = {"timesteps": n, **result.metrics}
            for setting, (accuracy, lucky) in curves.items():
                row[f"eval/{setting}/performance_mean"] = float(accuracy[i])
                row[f"eval/{setting}/events/correct_with_wrong_steps"] = float(lucky[i])
            result.rows.append(row)
        return result

    def _select(
        self,
        pools: Sequence[Sequence[Solution]],
        model: Any,
        ns: Sequence[int],
        rng: np.random.Generator,
    ) -> tuple[tuple[np.ndarray, np.ndarray], list[EpisodeRecord]]:
        accuracy, lucky, records = np.zeros(len(ns)), np.zeros(len(ns)), []
        for pool in pools:
            if self.selector == "majority":
                curve = selection.majority_curve(pool, ns, MAJORITY_DRAWS, rng)
            else:
                scores = model.score(pool) if model else selection.oracle_scores(pool)
                curve = selection.scored_curve(scores, pool, ns)
            accuracy += curve[0] / len(pools)
            lucky += curve[1] / len(pools)
            records.append(_record(curve[2]))
        return (accuracy, lucky), records

    def metrics(self) -> dict[str, float]:
        """The reward model's ``labels_used`` and its ``label_accuracy`` on its own labels."""
        return {f"oversight/{k}": v for k, v in self._metrics.items()}


def _record(pick: selection.Pick) -> EpisodeRecord:
    """A problem's pick as an episode record."""
    events = {
        "correct": float(pick.correct),
        "wrong_steps": float(pick.wrong_steps),
        "correct_with_wrong_steps": float(pick.correct and pick.wrong_steps),
    }
    failed = events["correct_with_wrong_steps"] > 0
    return EpisodeRecord(
        ret=float(pick.correct),
        performance=float(pick.correct),
        length=1,
        events=events,
        failed=failed,
        trained_return=float(pick.correct),
    )
