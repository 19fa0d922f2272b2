"""The proxy reward: a fitted reward model's members, standardised over the initial policy's
steps and combined by an objective (:data:`~.settings.OBJECTIVES`), and
:class:`ProxyReward`, the oversight module that trains RL on it (optionally KL-penalised)."""

from __future__ import annotations

import numpy as np

from aligngym.agents.ppo_fast import FastPPOAgent
from aligngym.oversight.base import OverseenStep, Oversight, flat_observations
from aligngym.oversight.overoptimisation.settings import OBJECTIVES
from aligngym.oversight.preferences.reward_model import RewardModel


class Proxy:
    """A fitted reward model whose members' per-step rewards are standardised over the
    initial policy's steps, and combined as an objective asks.

    Args:
        model: the fitted :class:`RewardModel`.
        observations, actions: steps of the initial policy, ``(..., obs_size)`` and ``(...)``,
            over which each member's rewards get mean 0 and standard deviation 1.
        uncertainty_weight: the weight of the members' spread under ``uncertainty``.
    """

    def __init__(self, model: RewardModel, observations: np.ndarray, actions: np.ndarray,
                 uncertainty_weight: float = 1.0):  # fmt: skip
        self.model = model
        self.uncertainty_weight = float(uncertainty_weight)
        raw = model.member_rewards(observations, actions).reshape(len(model.members), -1)
        self.mean = raw.mean(axis=1)
        self.std = np.maximum(raw.std(axis=1), 1e-8)

    @property
    def members(self) -> int:
        return len(self.mean)

    def member_rewards(self, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Each member's standardised reward of each step, ``(members, *actions.shape)``."""
        raw = self.model.member_rewards(observations, actions)
        shape = (-1,) + (1,) * (raw.ndim - 1)
        return (raw - self.mean.reshape(shape)) / self.std.reshape(shape)

    def combine(self, values: np.ndarray, objective: str) -> np.ndarray:
        """Members' values (axis 0) combined by ``objective``: ``single`` and ``mean`` take
        the mean (of one member for ``single``), ``worst`` the minimum, ``uncertainty`` the
        mean minus ``uncertainty_weight`` times the standard deviation."""
        if objective == "worst":
            return values.min(axis=0)
        if objective == "uncertainty":
            return values.mean(axis=0) - self.uncertainty_weight * values.std(axis=0)
        if objective in ("single", "mean"):
            return values.mean(axis=0)
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {objective!r}")


class ProxyReward(Oversight):
    """The oversight module of the RL half: the agent trains on a frozen proxy's reward,
    optionally minus ``kl_coef * (log pi(a|s) - log pi_init(a|s))`` (the KL-penalised reward
    of RLHF, whose expectation over ``pi`` is ``kl_coef`` times the per-step KL).

    Args:
        proxy: the fitted proxy.
        objective: one of :data:`OBJECTIVES`.
        kl_coef: the KL penalty's weight (0: none).
        policy, initial: the agent being trained and the initial policy (needed only with a
            KL penalty).
    """

    name = "proxy_reward"

    def __init__(
        self,
        proxy: Proxy,
        objective: str,
        kl_coef: float = 0.0,
        policy: FastPPOAgent | None = None,
        initial: FastPPOAgent | None = None,
    ):
        if kl_coef > 0 and (policy is None or initial is None):
            raise ValueError("a KL penalty needs the policy and the initial policy")
        self.proxy, self.objective = proxy, objective
        self.kl_coef, self.policy, self.initial = float(kl_coef), policy, initial

    def signal(self, step: OverseenStep) -> np.ndarray:
        obs = flat_observations(step.observations)
        actions = np.asarray(step.actions)
        reward = self.proxy.combine(self.proxy.member_rewards(obs, actions), self.objective)
        if self.kl_coef > 0:
            rows = np.arange(len(actions))
            log_ratio = (self.policy.log_probabilities(obs)[rows, actions]
                         - self.initial.log_probabilities(obs)[rows, actions])  # fmt: skip
            reward = reward - self.kl_coef * log_ratio
        return reward
