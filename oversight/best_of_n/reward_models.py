"""Process and outcome reward models of arithmetic-chain solutions (Lightman et al. 2023).

Both are small networks over :func:`~aligngym.oversight.best_of_n.features.step_features`,
fitted with binary cross-entropy on labels from the ground truth:

- :class:`ProcessRewardModel`: one label a step (is this step right?); a solution's score is
  the product of its steps' probabilities of being right (summed as logarithms);
- :class:`OutcomeRewardModel`: one label a solution (is its final answer right?), read from
  all its steps at once; its score is that probability.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from aligngym.envs.process_supervision.arithmetic_chains import Solution
from aligngym.oversight.best_of_n.features import STEP_FEATURES, step_features


def mlp(inputs: int, hidden: Sequence[int]) -> nn.Sequential:
    """An MLP from ``inputs`` features to one logit."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(inputs, size), nn.ReLU()]
        inputs = size
    return nn.Sequential(*layers, nn.Linear(inputs, 1))


class RewardModel(ABC):
    """A binary classifier fitted with Adam on minibatches; subclasses say what one example
    and its label are.

    Args:
        hidden: the hidden widths.
        epochs: passes over the labelled examples.
        batch_size: examples per step.
        learning_rate: Adam's step size.
        seed: seeds the initialisation and the minibatches.
    """

    def __init__(self, hidden: Sequence[int] = (128, 128), epochs: int = 30,
                 batch_size: int = 256, learning_rate: float = 1e-3, seed: int = 0):  # fmt: skip
        self.hidden, self.epochs = tuple(int(h) for h in hidden), int(epochs)
        self.batch_size, self.learning_rate, self.seed = int(batch_size), learning_rate, seed
        self.net: nn.Sequential | None = None

    @abstractmethod
    def _examples(self, solutions: Sequence[Solution]) -> tuple[np.ndarray, np.ndarray]:
        """The model's inputs and labels for ``solutions``."""

    def fit(self, solutions: Sequence[Solution]) -> dict[str, float]:
        """Fits the model to ``solutions``' labels; returns its accuracy on them and the count
        of labels used."""
        x, y = self._examples(solutions)
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.net = mlp(x.shape[1], self.hidden)
        optimiser = torch.optim.Adam(self.net.parameters(), lr=self.learning_rate)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
        for _ in range(self.epochs):
            for batch in torch.randperm(len(x), generator=generator).split(self.batch_size):
                logits = self.net(inputs[batch]).squeeze(1)
                loss = nn.functional.binary_cross_entropy_with_logits(logits, targets[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        accuracy = float(np.mean((self._logits(x) > 0) == y))
        return {"label_accuracy": accuracy, "labels_used": float(len(y))}

    def _logits(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.from_numpy(x)).squeeze(1).numpy()

    @abstractmethod
    def score(self, solutions: Sequence[Solution]) -> np.ndarray:
        """One score per solution, higher for better."""


class ProcessRewardModel(RewardModel):
    """Trained on step labels; scores a solution by the product of its steps' probabilities of
    being right (as the sum of their logarithms)."""

    def _examples(self, solutions: Sequence[Solution]) -> tuple[np.ndarray, np.ndarray]:
        x = step_features(solutions).reshape(-1, STEP_FEATURES)
        y = np.array([label for s in solutions for label in s.step_labels], dtype=bool)
        return x, y

    def step_probabilities(self, solutions: Sequence[Solution]) -> np.ndarray:
        """``(len(solutions), steps)``: each step's probability of being right."""
        features = step_features(solutions)
        logits = self._logits(features.reshape(-1, STEP_FEATURES))
        return (1 / (1 + np.exp(-logits))).reshape(features.shape[:2])

    def score(self, solutions: Sequence[Solution]) -> np.ndarray:
        features = step_features(solutions)
        logits = self._logits(features.reshape(-1, STEP_FEATURES)).astype(np.float64)
        return -np.logaddexp(0.0, -logits).reshape(features.shape[:2]).sum(axis=1)


class OutcomeRewardModel(RewardModel):
    """Trained on final-answer labels, reading all the steps at once; scores a solution by its
    probability of a right answer (as a logit: the same order)."""

    def _examples(self, solutions: Sequence[Solution]) -> tuple[np.ndarray, np.ndarray]:
        x = step_features(solutions).reshape(len(solutions), -1)
        return x, np.array([s.correct for s in solutions], dtype=bool)

    def score(self, solutions: Sequence[Solution]) -> np.ndarray:
        return self._logits(step_features(solutions).reshape(len(solutions), -1))
