"""The judges' model: a small MLP regressor of a label from a judged thing's features.

Targets are standardised for fitting and predictions returned in the labels' units (an
episode's or a step's performance). The fit takes at most a fixed number of Adam steps on
minibatches, whatever the number of labels, and keeps the weights that did best on validation
labels held out of the fit (early stopping): an outcome judge (one label an episode) and a
process judge (one a step) fitted on the same episodes get the same optimisation, and the one
with few labels is not left to memorise them (100 labels of 315 inputs do not fix 24,000
weights).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

#: inputs a forward pass takes at once when predicting
PREDICT_BATCH = 65_536


class Regressor:
    """An MLP ``f(features) -> label`` fitted by mean squared error.

    Args:
        inputs: the length of a feature vector.
        hidden: the hidden layer sizes.
        learning_rate: Adam's step size.
        seed: seeds the initial weights and the minibatches.
    """

    def __init__(self, inputs: int, hidden: tuple[int, ...] = (64, 64),
                 learning_rate: float = 1e-3, seed: int = 0):  # fmt: skip
        self.generator = torch.Generator().manual_seed(seed)
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)  # the initial weights (the global generator is restored after)
        layers: list[nn.Module] = []
        for size in hidden:
            layers += [nn.Linear(inputs, size), nn.ReLU()]
            inputs = size
        self.network = nn.Sequential(*layers, nn.Linear(inputs, 1))
        torch.random.set_rng_state(torch_state)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=learning_rate)
        self.scale = (0.0, 1.0)  # the labels' mean and standard deviation

    def fit(self, features: np.ndarray, labels: np.ndarray, steps: int = 2000,
            batch_size: int = 64, validation: tuple[np.ndarray, np.ndarray] | None = None,
            checks: int = 40) -> float:  # fmt: skip
        """Takes up to ``steps`` Adam steps on minibatches of ``(features, labels)``; with
        ``validation`` (features and labels), measures it ``checks`` times along the way and
        keeps the weights that did best. Returns the mean squared error (in standardised
        units) on ``validation``, or on the last tenth of the minibatches without it.

        Gradients are enabled here whatever the caller's mode (a learner may build its env
        under ``torch.no_grad()``).
        """
        with torch.enable_grad():
            return self._fit(features, labels, steps, batch_size, validation, checks)

    def _fit(self, features: np.ndarray, labels: np.ndarray, steps: int, batch_size: int,
             validation: tuple[np.ndarray, np.ndarray] | None, checks: int) -> float:  # fmt: skip
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        y = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        mean, std = float(y.mean()), float(y.std()) if len(y) > 1 else 0.0
        self.scale = (mean, std if std > 0 else 1.0)
        y = (y - self.scale[0]) / self.scale[1]
        check_every = max(1, steps // max(1, checks))
        best = (self._validation_loss(validation), copy.deepcopy(self.network.state_dict()))
        n, losses, order, at = len(y), [], torch.empty(0, dtype=torch.long), 0
        for step in range(1, steps + 1):
            if at >= len(order):  # a new pass over the labels, in a new order
                order, at = torch.randperm(n, generator=self.generator), 0
            batch = order[at : at + batch_size]
            at += batch_size
            loss = nn.functional.mse_loss(self.network(x[batch]).squeeze(-1), y[batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
            if validation is not None and (step % check_every == 0 or step == steps):
                loss_now = self._validation_loss(validation)
                if loss_now < best[0]:
                    best = (loss_now, copy.deepcopy(self.network.state_dict()))
        if validation is None:
            return float(np.mean(losses[-max(1, steps // 10) :]))
        self.network.load_state_dict(best[1])
        return best[0]

    @torch.no_grad()
    def _validation_loss(self, validation: tuple[np.ndarray, np.ndarray] | None) -> float:
        if validation is None:
            return float("inf")
        features, labels = validation
        predicted = (self.predict(features) - self.scale[0]) / self.scale[1]
        return float(np.mean((predicted - (labels - self.scale[0]) / self.scale[1]) ** 2))

    @torch.no_grad()
    def predict(self, features: np.ndarray) -> np.ndarray:
        """The predicted label of each row of ``features``, in the labels' units."""
        features = np.asarray(features, dtype=np.float32)
        out = [self.network(torch.as_tensor(features[k : k + PREDICT_BATCH])).squeeze(-1)
               for k in range(0, len(features), PREDICT_BATCH)]  # fmt: skip
        predicted = torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)
        return predicted.astype(float) * self.scale[1] + self.scale[0]
