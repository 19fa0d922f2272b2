"""A Bradley-Terry reward model of segment preferences, optionally an ensemble.

Each member is a small MLP ``r(observation, action)`` over the flattened observation and the
one-hot action; a segment's predicted return is the sum of its (valid) steps' rewards, and a
pair is modelled as ``P(a preferred) = sigmoid(R(a) - R(b))`` (Christiano et al. 2017). Members are
fitted on their own bootstrap resample of the labelled pairs, so that they disagree where the
labels leave the reward undetermined. Their per-step rewards are combined (Coste et al. 2024):

- ``mean``: the members' mean;
- ``worst``: their minimum (worst-case optimisation, WCO);
- ``uncertainty``: mean minus ``uncertainty_weight`` times their standard deviation (UWO).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from aligngym.oversight.preferences.segments import Segments

COMBINATIONS = ("mean", "worst", "uncertainty")


class RewardModel:
    """An ensemble of Bradley-Terry reward networks.

    Args:
        obs_size: the length of a flattened observation.
        num_actions: the number of discrete actions.
        members: the ensemble's size (1: a single model).
        hidden: the hidden layer sizes of each member.
        learning_rate: Adam's step size.
        combine: how members' rewards are combined: one of :data:`COMBINATIONS`.
        uncertainty_weight: the weight of the members' spread under ``uncertainty``.
        seed: seeds the members' weights and resamples.
    """

    def __init__(
        self,
        obs_size: int,
        num_actions: int,
        members: int = 1,
        hidden: tuple[int, ...] = (64, 64),
        learning_rate: float = 1e-3,
        combine: str = "mean",
        uncertainty_weight: float = 1.0,
        seed: int = 0,
    ):
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        if combine not in COMBINATIONS:
            raise ValueError(f"combine must be one of {list(COMBINATIONS)}, got {combine!r}")
        self.num_actions = num_actions
        self.combine = combine
        self.uncertainty_weight = float(uncertainty_weight)
        self.generator = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)  # the members' initial weights (restored after)
        self.members = [_network(obs_size + num_actions, hidden) for _ in range(members)]
        torch.random.set_rng_state(torch_state)
        self.optimizers = [torch.optim.Adam(m.parameters(), lr=learning_rate) for m in self.members]

    def _inputs(self, observations: np.ndarray, actions: np.ndarray) -> torch.Tensor:
        """Flattened observations and one-hot actions, ``(..., obs_size + num_actions)``."""
        obs = torch.as_tensor(observations, dtype=torch.float32)
        one_hot = nn.functional.one_hot(torch.as_tensor(actions), self.num_actions).float()
        return torch.cat([obs, one_hot], dim=-1)

    def fit(self, a: Segments, b: Segments, labels: np.ndarray, epochs: int = 20,
            batch_size: int = 64) -> float:  # fmt: skip
        """Fits every member to the labelled pairs (``labels[i]`` 1.0 where ``a[i]`` was
        preferred) on its own bootstrap resample; returns the last epoch's mean loss.

        Gradients are enabled here whatever the caller's mode: an online module fits inside
        the training env's step, which a learner may run under ``torch.no_grad()``.
        """
        with torch.enable_grad():
            return self._fit(a, b, labels, epochs, batch_size)

    def _fit(self, a: Segments, b: Segments, labels: np.ndarray, epochs: int,
             batch_size: int) -> float:  # fmt: skip
        inputs_a = self._inputs(a.observations, a.actions)
        inputs_b = self._inputs(b.observations, b.actions)
        valid_a = torch.as_tensor(a.valid, dtype=torch.float32).unsqueeze(-1)
        valid_b = torch.as_tensor(b.valid, dtype=torch.float32).unsqueeze(-1)
        targets = torch.as_tensor(labels, dtype=torch.float32)
        n = len(targets)
        loss_sum = 0.0
        for member, optimizer in zip(self.members, self.optimizers):
            picks = torch.arange(n)
            if len(self.members) > 1:  # each member its own bootstrap resample
                picks = torch.as_tensor(self.rng.integers(n, size=n))
            for _ in range(epochs):
                order = picks[torch.randperm(n, generator=self.generator)]
                epoch_loss = 0.0
                for batch in order.split(batch_size):
                    returns_a = (member(inputs_a[batch]) * valid_a[batch]).sum((1, 2))
                    returns_b = (member(inputs_b[batch]) * valid_b[batch]).sum((1, 2))
                    margin = returns_a - returns_b
                    loss = nn.functional.binary_cross_entropy_with_logits(margin, targets[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    epoch_loss += loss.item() * len(batch)
            loss_sum += epoch_loss / n
        return loss_sum / len(self.members)

    @torch.no_grad()
    def member_rewards(self, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Each member's reward for each step, ``(members, *actions.shape)``."""
        inputs = self._inputs(observations, actions)
        return torch.stack([member(inputs).squeeze(-1) for member in self.members]).numpy()

    def rewards(self, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The combined reward of each step (batched over any leading axes)."""
        rewards = self.member_rewards(observations, actions)
        if self.combine == "worst":
            return rewards.min(axis=0)
        mean = rewards.mean(axis=0)
        if self.combine == "uncertainty" and len(self.members) > 1:
            return mean - self.uncertainty_weight * rewards.std(axis=0)
        return mean

    def returns(self, segments: Segments) -> np.ndarray:
        """Each segment's return under the combined reward: the sum over its valid steps."""
        return (self.rewards(segments.observations, segments.actions) * segments.valid).sum(1)

    def preference_probability(self, a: Segments, b: Segments) -> np.ndarray:
        """The model's probability that ``a[i]`` is preferred to ``b[i]``."""
        return 1.0 / (1.0 + np.exp(-(self.returns(a) - self.returns(b))))


def _network(inputs: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(inputs, size), nn.ReLU()]
        inputs = size
    layers.append(nn.Linear(inputs, 1))
    return nn.Sequential(*layers)
