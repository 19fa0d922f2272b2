"""What every generator of arithmetic-chain solutions is: the agent of a best-of-N study."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from aligngym.envs.process_supervision.arithmetic_chains import (
    ArithmeticChains,
    Problem,
    Solution,
)


class SolutionGenerator(ABC):
    """Samples solutions of :class:`~aligngym.envs.process_supervision.arithmetic_chains.
    ArithmeticChains` problems (the agent ``oversight=process_rm`` and its kin select among).

    Args:
        env_id: the task (only the arithmetic chains).
        seed: the run's seed (the study draws its own generators from it).
    """

    scenario_kind: ClassVar[str] = "dataset"
    task_type: ClassVar[type] = ArithmeticChains

    def __init__(self, env_id: str, seed: int = 0):
        self.env_id, self.seed = env_id, int(seed)

    @abstractmethod
    def sample(
        self, problems: Sequence[Problem], samples: int, rng: np.random.Generator
    ) -> list[list[Solution]]:
        """``samples`` solutions of each problem, drawn with ``rng``."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """What the generator is, for ``model.json``."""

    def save(self, path: Path) -> Path:
        """Writes :meth:`settings` to ``path`` with suffix ``.json``."""
        path = Path(path).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.settings(), indent=2))
        return path
