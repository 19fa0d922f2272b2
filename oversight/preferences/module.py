"""``oversight=preferences``: the agent trains on a reward model learned online from a
labeller's preferences between segments of its own rollouts (Christiano et al. 2017).

While the agent trains, every environment's steps are cut into segments of
``segment_length`` steps (within an episode; an episode's end closes its last segment early,
padded after the end: :class:`~aligngym.oversight.preferences.segments.Segments`) and kept in
a pool of recent segments. At each
labelling round, pairs drawn from the pool go to the labeller, and the reward model is refitted
on every label so far; rounds come every ``round_every`` training steps (``schedule:
constant``) or at doubling intervals (``decaying``: most labels early, as Christiano et al.
ask for them) until ``label_budget`` labels are spent. The agent's reward is the model's,
divided by its spread over the pool after each fit (zero before the first). It is scaled, not
shifted: an episode's end is an absorbing state of zero reward (the padding of a segment cut
short), so the model's level says what ending an episode is worth, and a shift would turn a
step cost into a living reward. The truth is read only to
measure the module (``oversight/agreement``: how often the model prefers the segment with more
performance on pairs it was not fitted to; ``oversight/correlation`` of its segment returns
with performance), never to train it, except through an oracle labeller.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from aligngym.envs.core.settings import check_choice, check_int
from aligngym.oversight.base import OverseenStep, Oversight, flat_observations
from aligngym.oversight.preferences.labellers import (
    NoisyLabeller,
    OracleLabeller,
    PartialLabeller,
    RewardBiasedLabeller,
)
from aligngym.oversight.preferences.reward_model import RewardModel
from aligngym.oversight.preferences.segments import Segments

LABELLERS = {
    labeller.name: labeller
    for labeller in (OracleLabeller, NoisyLabeller, RewardBiasedLabeller, PartialLabeller)
}
SCHEDULES = ("constant", "decaying")
# pairs held out of fitting to measure the model's agreement with the truth
HELD_OUT_PAIRS = 256


class PreferenceOversight(Oversight):
    """Reward learned from a labeller's preferences, refitted as labels arrive.

    Args:
        labeller: ``oracle``, ``noisy``, ``reward_biased`` or ``partial``
            (:mod:`aligngym.oversight.preferences.labellers`).
        temperature: the labeller's Boltzmann temperature, relative to the return spread.
        error_rate: the ``noisy`` labeller's share of flipped answers.
        fraction: the share of each segment the ``partial`` labeller sees.
        label_budget: the labels the labeller gives in all.
        labels_per_round: the pairs labelled at each round.
        segment_length: the steps of a segment.
        round_every: training steps (all environments counted) between rounds, or before the
            second round under ``decaying``.
        schedule: ``constant`` or ``decaying``.
        members: the reward model's ensemble size.
        combine: ``mean``, ``worst`` or ``uncertainty`` (how members' rewards combine).
        epochs: passes over the labels at each refit.
        pool_size: the most recent segments kept to draw pairs from.
        seed: seeds the labeller, the pairs drawn and the reward model.
    """

    name = "preferences"

    def __init__(
        self,
        labeller: str = "oracle",
        temperature: float = 0.1,
        error_rate: float = 0.25,
        fraction: float = 0.5,
        label_budget: int = 1000,
        labels_per_round: int = 100,
        segment_length: int = 25,
        round_every: int = 20_000,
        schedule: str = "constant",
        members: int = 1,
        combine: str = "mean",
        epochs: int = 20,
        pool_size: int = 2000,
        seed: int = 0,
    ):
        check_choice("labeller", labeller, list(LABELLERS))
        self.schedule = check_choice("schedule", schedule, SCHEDULES)
        self.label_budget = check_int("label_budget", label_budget, 1)
        self.labels_per_round = check_int("labels_per_round", labels_per_round, 1)
        self.segment_length = check_int("segment_length", segment_length, 1)
        self.round_every = check_int("round_every", round_every, 1)
        self.epochs = check_int("epochs", epochs, 1)
        self.pool_size = check_int("pool_size", pool_size, 1)
        options = {"noisy": {"error_rate": error_rate}, "partial": {"fraction": fraction}}
        self.labeller = LABELLERS[labeller](temperature, seed=seed, **options.get(labeller, {}))
        self.members, self.combine = int(members), combine
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.model: RewardModel | None = None
        self.labelled: list[tuple[Segments, Segments, np.ndarray]] = []
        self.figures: dict[str, float] = {"oversight/labels_used": 0.0}
        self._timesteps = 0
        self._next_round = 0
        self._rounds = 0
        self._scale = 1.0  # the model reward's spread (standard deviation) over the pool
        self._pool: list[Segments] = []
        self._open: Segments | None = None  # every environment's open segment, so far
        self._filled = np.zeros(0, dtype=np.int64)  # the steps in each open segment

    # -------------------------------------------------------------------------- the seam

    def wrap(self, env: VectorEnv, learning: bool = True) -> VectorEnv:
        """Refuses, before any step, a scenario whose segments a reward model cannot read."""
        if not isinstance(env.single_action_space, spaces.Discrete) or not isinstance(
            env.single_observation_space, spaces.Box
        ):
            raise ValueError(
                "oversight=preferences learns a reward of (observation, action) and needs array "
                f"observations (obs_type grid or flat) and discrete actions; this env has "
                f"{env.single_observation_space} and {env.single_action_space}"
            )
        if self.model is None:
            self.model = RewardModel(
                int(np.prod(env.single_observation_space.shape)),
                int(env.single_action_space.n),
                members=self.members,
                combine=self.combine,
                seed=self.seed,
            )
        return super().wrap(env, learning)

    def signal(self, step: OverseenStep) -> np.ndarray:
        """The reward model's reward of each environment's step, over its spread."""
        if not self.labelled:
            return np.zeros(len(step.actions))
        return (
            self.model.rewards(flat_observations(step.observations), np.asarray(step.actions))
            / self._scale
        )

    def observe(self, step: OverseenStep) -> None:
        """Extends each environment's open segment; labels and refits when a round is due."""
        obs, actions = flat_observations(step.observations), np.asarray(step.actions)
        n = len(actions)
        if self._open is None:
            shape = (n, self.segment_length)
            self._open = Segments(np.zeros((*shape, obs.shape[1]), np.float32),
                                  np.zeros(shape, actions.dtype), np.zeros(shape),
                                  np.zeros(shape), np.zeros(shape, bool))  # fmt: skip
            self._filled = np.zeros(n, dtype=np.int64)
        envs, at = np.arange(n), self._filled
        self._open.observations[envs, at] = obs
        self._open.actions[envs, at] = actions
        self._open.rewards[envs, at] = step.rewards
        self._open.performance[envs, at] = step.performance
        self._filled += 1
        # a segment closes when full or when its episode ends (padded after the end)
        closed = (self._filled == self.segment_length) | step.terminated | step.truncated
        for i in np.flatnonzero(closed).tolist():
            self._pool.append(_copy(self._open, i, int(self._filled[i])))
        self._filled[closed] = 0
        del self._pool[: max(0, len(self._pool) - self.pool_size)]
        self._timesteps += n
        due = self._timesteps >= self._next_round and self._labels_left() > 0
        if due and len(self._pool) >= 2 * self.labels_per_round:
            self._round()

    def metrics(self) -> dict[str, float]:
        """``oversight/labels_used``, ``oversight/agreement``, ``oversight/correlation``,
        ``oversight/reward_model_loss``."""
        return dict(self.figures)

    # -------------------------------------------------------------------------- learning

    def _labels_left(self) -> int:
        return self.label_budget - int(self.figures["oversight/labels_used"])

    def _pairs(self, count: int) -> tuple[Segments, Segments]:
        """``count`` pairs of distinct segments drawn from the pool."""
        picks = np.array([self.rng.choice(len(self._pool), 2, replace=False) for _ in range(count)])
        return _stack([self._pool[k] for k in picks[:, 0]]), _stack(
            [self._pool[k] for k in picks[:, 1]]
        )

    def _round(self) -> None:
        """Labels a round of pairs, refits the reward model and measures it."""
        a, b = self._pairs(min(self.labels_per_round, self._labels_left()))
        self.labelled.append((a, b, self.labeller.label(a, b)))
        all_a = _stack([pair[0] for pair in self.labelled])
        all_b = _stack([pair[1] for pair in self.labelled])
        labels = np.concatenate([pair[2] for pair in self.labelled])
        loss = self.model.fit(all_a, all_b, labels, epochs=self.epochs)
        pool = _stack(self._pool)
        rewards = self.model.rewards(pool.observations, pool.actions)
        valid_rewards = rewards[pool.valid]
        self._scale = float(valid_rewards.std()) or 1.0
        self._rounds += 1
        self._next_round = self._timesteps + self.round_every * (
            2 ** (self._rounds - 1) if self.schedule == "decaying" else 1
        )
        self.figures.update(self._measure(pool, rewards))
        self.figures["oversight/labels_used"] = float(len(labels))
        self.figures["oversight/reward_model_loss"] = loss

    def _measure(self, pool: Segments, rewards: np.ndarray) -> dict[str, float]:
        """Agreement with the truth on fresh pairs, and the return correlation on the pool."""
        a, b = self._pairs(HELD_OUT_PAIRS)
        truth = a.performance.sum(1) - b.performance.sum(1)
        predicted = self.model.preference_probability(a, b) > 0.5
        decided = truth != 0
        figures = {}
        if decided.any():
            figures["oversight/agreement"] = float((predicted == (truth > 0))[decided].mean())
        model_returns, true_returns = (rewards * pool.valid).sum(1), pool.performance.sum(1)
        if model_returns.std() > 0 and true_returns.std() > 0:
            figures["oversight/correlation"] = float(np.corrcoef(model_returns, true_returns)[0, 1])
        return figures


def _copy(segments: Segments, i: int, steps: int) -> Segments:
    """The first ``steps`` steps of segment ``i`` of ``segments``, copied as a batch of one
    and padded to its length (zeros, marked invalid)."""
    valid = np.arange(segments.length) < steps
    fields = (segments.observations, segments.actions, segments.rewards, segments.performance)
    padded = [np.where(valid.reshape(-1, *[1] * (f.ndim - 2)), f[i], 0)[None] for f in fields]
    return Segments(*padded, valid[None])


def _stack(segments: list[Segments]) -> Segments:
    return Segments(
        np.concatenate([s.observations for s in segments]),
        np.concatenate([s.actions for s in segments]),
        np.concatenate([s.rewards for s in segments]),
        np.concatenate([s.performance for s in segments]),
        np.concatenate([s.valid for s in segments]),
    )
