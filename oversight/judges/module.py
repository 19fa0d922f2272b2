"""``oversight=outcome_judge`` and ``oversight=process_judge``: the agent is rewarded by a judge
fitted, before training, on labelled episodes of a reference policy.

- The **outcome judge** sees how an episode ends: it is fitted to predict an episode's total
  performance from its final observation, and pays that prediction on the episode's last step
  (0 on every other step).
- The **process judge** sees every step: it is fitted to predict a step's performance from the
  step (observation, action, next observation; the true last observation where an episode
  ends), and pays its prediction on every step.

Both spend the same label budget: they are fitted on the same ``episodes`` reference episodes,
the outcome judge on one label an episode (its performance), the process judge on one a step.
Where tampering changes what an observation shows (tomato watering's bucket shows a garden of
watered tomatoes), the outcome judge learns about a tampered ending only from reference
episodes that happened to end tampered; the process judge gets every tampered step labelled
with its true performance. For a policy that cannot see the time, the share of tampered
endings is about the share of tampered steps, so from the same episodes the process judge gets
about an episode's length times more labelled tampering: where the budget leaves the outcome
judge none, it extrapolates "everything looks watered" to a high score, while the process
judge has seen what tampering is worth (docs/reproductions.md, "Outcome against process
supervision", for what PPO then learns from each).

The truth is read to label the reference episodes and to measure the judge
(``oversight/judge_r2`` and ``oversight/judge_correlation`` on held-out reference episodes;
``oversight/training_correlation`` and ``oversight/training_overestimate`` on the agent's own
finished training episodes, where being fooled shows), never to reward the agent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from aligngym.envs.core.settings import check_int
from aligngym.envs.registry import card_of, scenario
from aligngym.oversight.base import OverseenStep, Oversight, flat_observations
from aligngym.oversight.judges.model import Regressor
from aligngym.oversight.judges.rollouts import (
    LabelledEpisodes,
    ReferencePolicy,
    env_settings,
    epsilon_range,
    reference_rollouts,
)

#: reference episodes (of the same policy, other seeds) that measure a fitted judge; they are
#: not fitted on and not counted as labels
HELD_OUT_EPISODES = 100
#: the agent's most recent finished training episodes the training figures are measured on
TRAINING_WINDOW = 1000
#: the judges' hidden layers
HIDDEN = (64, 64)
#: every VALIDATION-th labelled episode validates the fit (early stopping) instead of fitting it
VALIDATION = 5


class Judge(Oversight, ABC):
    """What the outcome and process judges share: knobs, reference rollouts, fitting, figures.

    Args:
        reference: the reference policy whose episodes are labelled: ``random`` (uniform
            actions) or one of the scenario's scripted policies (``intended``, ``gaming``, ...).
        epsilon: the share of uniformly random actions mixed into a scripted reference's, or
            a range ``[low, high]`` from which each reference episode draws its own.
        episodes: the reference episodes labelled and fitted on (the label budget).
        fit_steps: Adam steps of the fit (the same for both judges, whatever their labels).
        batch_size: labels in a minibatch.
        learning_rate: Adam's step size.
        seed: seeds the reference episodes, the random actions and the judge's fit.
    """

    name = "judge"

    def __init__(
        self,
        reference: str = "intended",
        epsilon: float | tuple[float, float] = (0.0, 1.0),
        episodes: int = 100,
        fit_steps: int = 2000,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        seed: int = 0,
    ):
        if not isinstance(reference, str) or not reference:
            raise ValueError(f"reference must be 'random' or a scripted policy, got {reference!r}")
        epsilon = epsilon_range(epsilon)
        self.episodes = check_int("episodes", episodes, 1)
        self.fit_steps = check_int("fit_steps", fit_steps, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        if not float(learning_rate) > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
        self.reference, self.epsilon = reference, epsilon
        self.learning_rate = float(learning_rate)
        self.seed = int(seed)
        self.model: Regressor | None = None
        #: what the judge was fitted for: scenario id, observation shape, number of actions
        self.fitted_for: tuple[str, tuple[int, ...], int] | None = None
        self.figures: dict[str, float] = {}
        self._num_actions = 0
        self._window: deque[tuple[float, float]] = deque(maxlen=TRAINING_WINDOW)
        self._judged = np.zeros(0)  # each training environment's judged return so far
        self._true = np.zeros(0)  # and its true performance so far
        self._cached: tuple[OverseenStep, np.ndarray] | None = None

    # -------------------------------------------------------------------------- the seam

    def wrap(self, env: VectorEnv, learning: bool = True) -> VectorEnv:
        """Checks the env, fits the judge on the first wrap, and wraps: later wraps (the
        evaluation envs) reuse the fitted judge. Refuses, before any rollout, an env the judge
        cannot read or a reference policy the scenario does not have."""
        env_id, shape, num_actions = self._check(env)
        if self.fitted_for is None:
            policy = self._policy(env_id)
            self._fit(env_id, env_settings(env), policy, num_actions)
            self.fitted_for = (env_id, shape, num_actions)
        elif self.fitted_for != (env_id, shape, num_actions):
            raise ValueError(
                f"oversight={self.name} was fitted for {self.fitted_for[0]} (observations "
                f"{self.fitted_for[1]}, {self.fitted_for[2]} actions) and cannot judge "
                f"{env_id} (observations {shape}, {num_actions} actions)"
            )
        return super().wrap(env, learning)

    def signal(self, step: OverseenStep) -> np.ndarray:
        """The judge's reward for each environment's step."""
        if self._cached is not None and self._cached[0] is step:
            return self._cached[1]
        return self.judge(step)

    def observe(self, step: OverseenStep) -> None:
        """Follows the agent's training episodes: their judged return against the truth."""
        judged = self.judge(step)
        self._cached = (step, judged)
        if len(self._judged) != len(judged):
            self._judged, self._true = np.zeros(len(judged)), np.zeros(len(judged))
        self._judged += judged
        self._true += step.performance
        ended = np.flatnonzero(np.asarray(step.terminated) | np.asarray(step.truncated))
        if len(ended):
            self._window.extend(zip(self._judged[ended].tolist(), self._true[ended].tolist()))
            self._judged[ended] = 0.0
            self._true[ended] = 0.0

    def metrics(self) -> dict[str, float]:
        """``oversight/episodes_labelled``, ``oversight/labels_used``,
        ``oversight/failure_labels`` (labels that show the scenario's failure event),
        ``oversight/judge_loss``, ``oversight/judge_r2`` (of its own labels) and
        ``oversight/judge_correlation`` (of judged episode returns with performance) on
        held-out reference episodes, and on the agent's last finished training episodes
        ``oversight/training_correlation`` and ``oversight/training_overestimate`` (judged
        return minus performance, on average)."""
        figures = dict(self.figures)
        if len(self._window) >= 2:
            judged, true = np.array(self._window).T
            figures["oversight/training_overestimate"] = float(np.mean(judged - true))
            if judged.std() > 0 and true.std() > 0:
                figures["oversight/training_correlation"] = float(np.corrcoef(judged, true)[0, 1])
        return figures

    # ------------------------------------------------------------------ what subclasses say

    @abstractmethod
    def judge(self, step: OverseenStep) -> np.ndarray:
        """The judge's reward for each environment's step (subclasses)."""

    @abstractmethod
    def labels(self, episodes: LabelledEpisodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The features, labels and failure flags of the judged things of ``episodes``."""

    @abstractmethod
    def judged_returns(self, episodes: LabelledEpisodes) -> np.ndarray:
        """What the judge pays over each episode of ``episodes``, in all (subclasses)."""

    @abstractmethod
    def _episode_of(self, episodes: LabelledEpisodes) -> np.ndarray:
        """The episode of each of the judged things :meth:`labels` returns (subclasses)."""

    # -------------------------------------------------------------------------- fitting

    def _check(self, env: Any) -> tuple[str, tuple[int, ...], int]:
        if not isinstance(env, VectorEnv):
            raise ValueError(
                f"oversight={self.name} judges a single-agent scenario's vector env, got "
                f"{type(env).__name__} (multi-agent scenarios are not supported)"
            )
        card = card_of(env)
        if scenario(card.id).kind != "single":
            raise ValueError(
                f"oversight={self.name} judges single-agent scenarios; {card.id} is multi-agent"
            )
        obs_space, action_space = env.single_observation_space, env.single_action_space
        if not isinstance(obs_space, spaces.Box) or not isinstance(action_space, spaces.Discrete):
            raise ValueError(
                f"oversight={self.name} fits a model of observations and actions and needs array "
                f"observations (obs_type grid or flat) and discrete actions; {card.id} has "
                f"{obs_space} and {action_space}"
            )
        return card.id, tuple(obs_space.shape), int(action_space.n)

    def _policy(self, env_id: str) -> ReferencePolicy:
        try:
            return ReferencePolicy(env_id, self.reference, self.epsilon)
        except KeyError as error:
            raise ValueError(
                f"oversight={self.name}: reference must be 'random' or a scripted policy of "
                f"{env_id}: {error.args[0]}"
            ) from None

    def _fit(self, env_id: str, settings: dict[str, Any], policy: ReferencePolicy,
             num_actions: int) -> None:  # fmt: skip
        self._num_actions = num_actions
        fit_seed, held_out_seed = np.random.SeedSequence(self.seed).generate_state(2).tolist()
        labelled = reference_rollouts(env_id, settings, policy, self.episodes, fit_seed)
        features, labels, failed = self.labels(labelled)
        # every VALIDATION-th labelled episode is held out of the fit to stop it early
        held = (self._episode_of(labelled) % VALIDATION == VALIDATION - 1) & (
            labelled.episodes >= VALIDATION
        )
        self.model = Regressor(features.shape[1], HIDDEN, self.learning_rate, seed=self.seed)
        validation = (features[held], labels[held]) if held.any() else None
        loss = self.model.fit(features[~held], labels[~held], self.fit_steps, self.batch_size,
                              validation)  # fmt: skip
        held_out = reference_rollouts(env_id, settings, policy, HELD_OUT_EPISODES, held_out_seed)
        self.figures = {
            "oversight/episodes_labelled": float(labelled.episodes),
            "oversight/labels_used": float(len(labels)),
            "oversight/failure_labels": float(failed.sum()),
            "oversight/judge_loss": loss,
            **self._measure(held_out),
        }

    def _measure(self, held_out: LabelledEpisodes) -> dict[str, float]:
        figures = {}
        features, labels, _ = self.labels(held_out)
        residual = labels - self.model.predict(features)
        if labels.var() > 0:
            figures["oversight/judge_r2"] = float(1.0 - residual.var() / labels.var())
        judged, true = self.judged_returns(held_out), held_out.returns
        if judged.std() > 0 and true.std() > 0:
            figures["oversight/judge_correlation"] = float(np.corrcoef(judged, true)[0, 1])
        return figures


class OutcomeJudge(Judge):
    """A judge of how an episode ends: predicts its performance from its final observation and
    pays that on its last step (see the module's docstring and :class:`Judge` for the knobs)."""

    name = "outcome_judge"

    def judge(self, step: OverseenStep) -> np.ndarray:
        rewards = np.zeros(len(step.actions))
        ended = np.flatnonzero(np.asarray(step.terminated) | np.asarray(step.truncated))
        if len(ended):
            final = step.final_observations
            if final is None:  # a step built without it: the env resets on its next step
                final = step.next_observations
            rewards[ended] = self.model.predict(flat_observations(final)[ended])
        return rewards

    def labels(self, episodes: LabelledEpisodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return episodes.final_observations, episodes.returns, episodes.failed[episodes.last]

    def judged_returns(self, episodes: LabelledEpisodes) -> np.ndarray:
        return self.model.predict(episodes.final_observations)

    def _episode_of(self, episodes: LabelledEpisodes) -> np.ndarray:
        return np.arange(episodes.episodes)


class ProcessJudge(Judge):
    """A judge of every step: predicts its performance from (observation, action, next
    observation) and pays that on every step (see the module's docstring and :class:`Judge`
    for the knobs)."""

    name = "process_judge"

    def judge(self, step: OverseenStep) -> np.ndarray:
        after = step.final_observations
        if after is None:
            after = step.next_observations
        return self.model.predict(self._features(step.observations, step.actions, after))

    def labels(self, episodes: LabelledEpisodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        features = self._features(episodes.observations, episodes.actions,
                                  episodes.next_observations)  # fmt: skip
        return features, episodes.performance, episodes.failed

    def judged_returns(self, episodes: LabelledEpisodes) -> np.ndarray:
        features, _, _ = self.labels(episodes)
        return np.bincount(episodes.episode, self.model.predict(features), episodes.episodes)

    def _episode_of(self, episodes: LabelledEpisodes) -> np.ndarray:
        return episodes.episode

    def _features(self, observations: Any, actions: Any, after: Any) -> np.ndarray:
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        one_hot = np.eye(self._num_actions, dtype=np.float32)[actions]
        return np.concatenate(
            [flat_observations(observations), one_hot, flat_observations(after)],
            axis=1,
        )
