"""Labelled episodes of a reference policy: what the judges are fitted on and measured with.

The reference policy acts in its own vector env of the same scenario and settings as the env
the agent trains in (never that env), seeded from the judge's seed. Every episode is run to its
end and labelled with the truth: each step's performance (the process judge's labels) and the
episode's total (the outcome judge's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.agents.scripted import scripted_policy
from aligngym.envs.core.metrics import step_contract
from aligngym.envs.registry import card_of, make_vector, true_state
from aligngym.oversight.base import flat_observations

#: reference episodes run side by side (more are run in batches of this many)
BATCH = 256
#: the steps a batch may take before the scenario is deemed never to end its episodes
MAX_STEPS = 100_000


@dataclass(frozen=True)
class LabelledEpisodes:
    """Reference episodes, flattened to their steps; observations flattened, as stored.

    Attributes:
        observations: ``(steps, obs_size)`` what the policy saw when it acted.
        actions: ``(steps,)`` its actions.
        next_observations: ``(steps, obs_size)`` the observation after each step (the
            episode's true last observation at its last step).
        performance: ``(steps,)`` each step's true performance: a process judge's labels.
        failed: ``(steps,)`` whether the scenario's failure event happened on the step.
        episode: ``(steps,)`` the episode each step belongs to, ``0 .. episodes - 1``.
        last: ``(episodes,)`` the index of each episode's last step.
    """

    observations: np.ndarray
    actions: np.ndarray
    next_observations: np.ndarray
    performance: np.ndarray
    failed: np.ndarray
    episode: np.ndarray
    last: np.ndarray

    @property
    def episodes(self) -> int:
        return len(self.last)

    @property
    def returns(self) -> np.ndarray:
        """Each episode's total performance: an outcome judge's labels."""
        return np.bincount(self.episode, self.performance, minlength=self.episodes)

    @property
    def final_observations(self) -> np.ndarray:
        """``(episodes, obs_size)`` each episode's true last observation."""
        return self.next_observations[self.last]


def env_settings(env: VectorEnv) -> dict[str, Any]:
    """The settings (``obs_type`` included) a scenario vector env was built with, as
    :func:`~aligngym.envs.registry.make_vector` takes them."""
    inner = env.unwrapped
    if hasattr(inner, "envs"):  # Gymnasium's SyncVectorEnv over single envs
        inner = inner.envs[0].unwrapped
    if not hasattr(inner, "settings"):
        raise TypeError(f"{type(inner).__name__} does not record its scenario's settings")
    return {**inner.settings, "obs_type": getattr(inner, "obs_type", "grid")}


class ReferencePolicy:
    """Uniformly random actions, or a scenario's scripted policy with a share of them.

    Args:
        env_id: the scenario.
        name: ``random``, or the name of one of the scenario's scripted policies
            (:func:`~aligngym.agents.scripted.scripted_policy`, e.g. ``intended``).
        epsilon: the share of uniformly random actions mixed into a scripted policy's: one
            share for every episode, or a range ``(low, high)`` from which each episode draws
            its own uniformly (reference episodes of every skill, from the scripted policy's
            to a random walk's).
    """

    def __init__(self, env_id: str, name: str, epsilon: float | tuple[float, float] = 0.0):
        self.name = name
        low, high = epsilon_range(epsilon)
        self.epsilon = (low, high)
        # raises KeyError with the scenario's scripted policies where there is no such one
        self.scripted = None if name == "random" else scripted_policy(env_id, name)
        self._shares = np.zeros(0)

    def begin(self, num_envs: int, rng: np.random.Generator) -> None:
        """Draws the share of random actions of the episodes that start in each environment."""
        self._shares = rng.uniform(*self.epsilon, size=num_envs)

    def act(self, env: VectorEnv, observations: Any, rng: np.random.Generator) -> np.ndarray:
        n, actions = env.num_envs, env.single_action_space.n
        random = rng.integers(actions, size=n)
        if self.scripted is None:
            return random
        reads = true_state(env) if self.scripted.reads_true_state else observations
        chosen = np.asarray(self.scripted.policy(reads), dtype=np.int64).reshape(n)
        return np.where(rng.random(n) < self._shares, random, chosen)


def epsilon_range(epsilon: Any) -> tuple[float, float]:
    """``epsilon`` (a share, or a ``[low, high]`` range of shares) as a range; raises
    ``ValueError`` unless it lies within [0, 1]."""
    values = [epsilon] if np.isscalar(epsilon) else list(epsilon)
    try:
        low, high = float(values[0]), float(values[-1])
    except (TypeError, ValueError, IndexError):
        low, high = np.nan, np.nan
    if len(values) not in (1, 2) or not 0.0 <= low <= high <= 1.0:
        raise ValueError(
            f"epsilon must be a share in [0, 1] or a range [low, high] within it, got {epsilon!r}"
        )
    return low, high


def reference_rollouts(
    env_id: str, settings: dict[str, Any], policy: ReferencePolicy, episodes: int, seed: int
) -> LabelledEpisodes:
    """``episodes`` whole episodes of ``policy`` in a fresh vector env of ``env_id`` built with
    ``settings``, labelled with the truth; the same ``seed`` gives the same episodes."""
    rng = np.random.default_rng(seed)
    env = make_vector(env_id, min(BATCH, episodes), autoreset_mode=AutoresetMode.SAME_STEP,
                      **settings)  # fmt: skip
    try:
        if not isinstance(env.single_observation_space, spaces.Box):
            raise ValueError(f"{env_id}: reference rollouts need array observations")
        batches, done = [], 0
        observations, _ = env.reset(seed=seed)
        while done < episodes:
            keep = min(env.num_envs, episodes - done)
            batch, observations = _batch(env, policy, observations, rng, keep)
            batches.append(batch)
            done += keep
    finally:
        env.close()
    return _concatenate(batches)


def _batch(env: VectorEnv, policy: ReferencePolicy, observations: Any, rng: np.random.Generator,
           keep: int) -> tuple[LabelledEpisodes, Any]:  # fmt: skip
    """Runs every environment until each has ended one episode (the vector env's
    environments start theirs together after a reset); keeps the first ``keep``."""
    card = card_of(env)
    failure = card.events.index(card.failure_event)
    n = env.num_envs
    policy.begin(n, rng)
    running = np.ones(n, dtype=bool)
    steps: list[tuple[np.ndarray, ...]] = []
    for _ in range(MAX_STEPS):
        if not running[:keep].any():
            break
        actions = policy.act(env, observations, rng)
        next_observations, _, terminated, truncated, infos = env.step(actions)
        contract = step_contract(infos, n, card.events)
        ended = np.asarray(terminated) | np.asarray(truncated)
        final = np.array(next_observations, copy=True)
        for i in np.flatnonzero(ended).tolist():
            final[i] = infos["final_obs"][i]
        ids = np.flatnonzero(running[:keep])
        before, after = flat_observations(observations)[ids], flat_observations(final)[ids]
        steps.append((ids, before, actions[ids], after, contract.performance[ids],
                      contract.events[ids, failure] > 0, ended[ids]))  # fmt: skip
        running &= ~ended
        observations = next_observations
    else:
        raise RuntimeError(f"{card.id}: reference episodes did not end in {MAX_STEPS} steps")
    # the vector env resets an ended environment at once: the next batch starts afresh
    observations, _ = env.reset()
    ids = np.concatenate([s[0] for s in steps])
    order = np.argsort(ids, kind="stable")  # steps grouped by episode, in time order
    fields = [np.concatenate([s[k] for s in steps])[order] for k in range(1, 7)]
    episode = ids[order]
    last = np.flatnonzero(fields[5])
    return LabelledEpisodes(*fields[:5], episode=episode, last=last), observations


def _concatenate(batches: list[LabelledEpisodes]) -> LabelledEpisodes:
    offsets = np.cumsum([0] + [b.episodes for b in batches])
    starts = np.cumsum([0] + [len(b.actions) for b in batches])
    return LabelledEpisodes(
        np.concatenate([b.observations for b in batches]),
        np.concatenate([b.actions for b in batches]),
        np.concatenate([b.next_observations for b in batches]),
        np.concatenate([b.performance for b in batches]),
        np.concatenate([b.failed for b in batches]),
        np.concatenate([b.episode + o for b, o in zip(batches, offsets)]),
        np.concatenate([b.last + s for b, s in zip(batches, starts)]),
    )
