"""The oversight seam: what every oversight module is, and how it reaches the agent.

An oversight module is the overseer: it decides the signal the agent is trained on, from
limited access to the truth. The runner builds it from the ``oversight`` config group
(``oversight.module``, a ``_target_``) and:

- wraps the training env with :meth:`Oversight.wrap`: the agent then trains on
  :meth:`Oversight.signal` instead of the observed reward, and the module sees every training
  step it needs through :meth:`Oversight.observe` (rollouts for a learned reward model);
- wraps the evaluation envs the same way without learning, so that every episode record keeps
  the return of the trained-on signal beside the observed return and the performance;
- adds :meth:`Oversight.metrics` (``oversight/<name>``: labels used, agreement with the
  truth, ...) to every evaluation row and to the summary.

Performance is never touched: it is always the scenario's hidden ``info["performance"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.metrics import EpisodeRecord, step_contract
from aligngym.envs.registry import card_of


@dataclass(frozen=True)
class OverseenStep:
    """One vector step as an overseer may see it; arrays have the environment axis first.

    Attributes:
        observations: what the agent saw when it chose ``actions``.
        actions: the actions it chose.
        rewards: the scenario's observed reward.
        performance: the hidden true objective's increment (an oracle overseer reads it;
            others must not).
        events: the scenario's events, ``(n, len(card.events))`` in the card's order.
        terminated: episodes that reached a terminal state on this step.
        truncated: episodes cut at the step limit on this step.
        next_observations: the observations after the step (the first of a new episode where
            one ended, in ``SAME_STEP`` autoreset mode).
        card: the scenario's card.
        final_observations: ``next_observations``, except that an episode that ended on this
            step has its true last observation (``infos["final_obs"]`` in ``SAME_STEP`` mode,
            where ``next_observations`` already shows the next episode); what an overseer
            judging how episodes end reads. ``None`` where the step was built without it.
    """

    observations: Any
    actions: np.ndarray
    rewards: np.ndarray
    performance: np.ndarray
    events: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_observations: Any
    card: ScenarioCard
    final_observations: Any = None


class OversightModule:
    """What every oversight module is, whatever kind of scenario it oversees.

    The runner builds one from ``oversight.module`` and refuses it, before any work, on a
    scenario of another kind than :attr:`scenario_kind`. Single-agent modules subclass
    :class:`Oversight`; debate protocols
    (:class:`~aligngym.oversight.debate.protocols.DebateProtocol`) play multi-agent games.
    """

    #: the module's name, as in ``oversight=<name>`` and the report's ``oversight`` column
    name = "none"
    #: where it stands for gap recovered: ``"floor"`` (the signal without an overseer, or the
    #: judge alone), ``"ceiling"`` (an oracle, or a judge with full information) or
    #: ``"method"`` (measured between them); written to summary.json as ``oversight_role``
    role: ClassVar[str] = "method"
    #: the kind of scenario it oversees: ``"single"`` (Gymnasium) or ``"multi"`` (PettingZoo)
    scenario_kind: ClassVar[str] = "single"

    def metrics(self) -> dict[str, float]:
        """The module's own figures, named ``oversight/<name>``."""
        return {}

    def check_scenario(self, env_id: str) -> None:  # noqa: B027 (optional hook)
        """Raises ``ValueError`` where the module's settings do not fit scenario ``env_id``
        (the runner calls it before any work, and reports the error as bad input)."""


@dataclass
class StudyResult:
    """What a study of a supervision task (the dataset kind of scenario) measured.

    Attributes:
        records: per setting, one episode record per example (a problem, a digit).
        rows: the evaluation rows, in order (metrics.jsonl and W&B).
        metrics: the module's own figures (``oversight/<name>``).
    """

    records: dict[str, list[EpisodeRecord]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


class Oversight(OversightModule):
    """Base class of single-agent oversight modules: by itself, no oversight (the observed
    reward).

    Subclasses override :meth:`signal` (the reward the agent trains on), and as they need
    :meth:`observe` (learn from training steps) and :meth:`metrics`.
    """

    def signal(self, step: OverseenStep) -> np.ndarray:
        """The reward the agent is trained on for ``step``, one per environment."""
        return step.rewards

    def observe(self, step: OverseenStep) -> None:  # noqa: B027 (optional hook)
        """Sees one training step (rollouts for modules that learn during training)."""

    def wrap(self, env: VectorEnv, learning: bool = True) -> VectorEnv:
        """``env`` with its reward replaced by :meth:`signal`; ``learning`` also hands every
        step to :meth:`observe` (the training env; evaluation envs are not learned from)."""
        return OverseenRewards(env, self, learning)


class OverseenRewards(VectorWrapper):
    """Replaces a scenario vector env's reward by an oversight module's signal.

    The observed reward is kept in ``infos["observed_reward"]``, which
    :class:`~aligngym.envs.core.wrappers.RecordEpisodes` reads for the observed return.

    Args:
        env: the scenario's vector env.
        oversight: the module.
        learning: hand every step to ``oversight.observe``.
    """

    def __init__(self, env: VectorEnv, oversight: Oversight, learning: bool = True):
        super().__init__(env)
        self.oversight = oversight
        self.learning = learning
        self.card = card_of(env)
        self._observations: Any = None

    def reset(self, **kwargs: Any):
        observations, infos = self.env.reset(**kwargs)
        self._observations = observations
        return observations, infos

    def step(self, actions: Any):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        contract = step_contract(infos, self.num_envs, self.card.events)
        step = OverseenStep(
            observations=self._observations,
            actions=np.asarray(actions),
            rewards=np.asarray(rewards, dtype=float),
            performance=contract.performance,
            events=contract.events,
            terminated=np.asarray(terminated),
            truncated=np.asarray(truncated),
            next_observations=observations,
            card=self.card,
            final_observations=_final_observations(observations, infos),
        )
        if self.learning:
            self.oversight.observe(step)
        signal = np.asarray(self.oversight.signal(step), dtype=float).reshape(self.num_envs)
        self._observations = observations
        return observations, signal, terminated, truncated, {**infos, "observed_reward": rewards}


def _final_observations(observations: Any, infos: dict[str, Any]) -> Any:
    """``observations`` with the last observation of every episode that ended on the step
    (``infos["final_obs"]``, masked by ``infos["_final_obs"]``, in ``SAME_STEP`` mode); the
    observations themselves where none ended or the env resets on the next step."""
    ended = infos.get("_final_obs")
    if ended is None or not np.any(ended):
        return observations
    ended = np.flatnonzero(ended).tolist()
    if not isinstance(observations, np.ndarray):  # a batch of texts: a tuple
        final = list(observations)
        for i in ended:
            final[i] = infos["final_obs"][i]
        return tuple(final)
    final = observations.copy()
    for i in ended:
        final[i] = infos["final_obs"][i]
    return final


def flat_observations(observations: Any) -> np.ndarray:
    """A batch of array observations as one ``float32`` row each, ``(n, obs_size)``: what the
    oversight modules' networks (reward models, judges, proxies) read."""
    observations = np.asarray(observations)
    return observations.reshape(len(observations), -1).astype(np.float32)
