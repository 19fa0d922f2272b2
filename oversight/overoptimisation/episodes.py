"""Rollouts: episodes of a policy, and what the experiment measures of each (gold, observed
return, failure, exact KL from a reference policy, the proxies' member returns), and the
initial policy's episodes cut into the segments that get labelled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aligngym.agents.ppo_fast import FastPPOAgent
from aligngym.envs.core.metrics import step_contract
from aligngym.envs.registry import card_of
from aligngym.oversight.base import flat_observations
from aligngym.oversight.overoptimisation.proxy import Proxy
from aligngym.oversight.overoptimisation.settings import Settings
from aligngym.oversight.preferences.segments import Segments


@dataclass
class Episodes:
    """One episode per environment of a batch, and what the experiment measures of each.

    Attributes:
        gold: the true return (the sum of ``info["performance"]``), ``(E,)``.
        observed: the observed return, ``(E,)``.
        failure: whether the scenario's failure event happened, ``(E,)``.
        kl: ``sum_t KL(pi(.|s_t) || pi_init(.|s_t))`` where a reference policy was given.
        member_returns: per proxy name, each member's standardised return, ``(members, E)``.
        steps: where kept, the episodes' steps as :class:`Segments` of the full length (steps
            after an episode's end are marked by ``lengths``).
        lengths: each episode's steps.
    """

    gold: np.ndarray
    observed: np.ndarray
    failure: np.ndarray
    kl: np.ndarray | None
    member_returns: dict[str, np.ndarray]
    steps: Segments | None
    lengths: np.ndarray


def run_episodes(
    settings: Settings,
    policy: FastPPOAgent,
    episodes: int,
    seed: int,
    proxies: dict[str, Proxy] | None = None,
    reference: FastPPOAgent | None = None,
    keep_steps: bool = False,
) -> Episodes:
    """Runs ``episodes`` episodes of ``policy``, its actions sampled from its distribution
    (seeded by ``seed``), in batches of at most 1024 environments."""
    parts = [
        _batch(settings, policy, size, seed + k, proxies or {}, reference, keep_steps)
        for k, size in enumerate(_batches(episodes, 1024))
    ]
    steps = None
    if keep_steps:
        length = max(p.steps.length for p in parts)
        names = ("observations", "actions", "rewards", "performance")
        steps = Segments(
            *(
                np.concatenate([_pad(getattr(p.steps, name), length) for p in parts])
                for name in names
            )
        )
    return Episodes(
        gold=np.concatenate([p.gold for p in parts]),
        observed=np.concatenate([p.observed for p in parts]),
        failure=np.concatenate([p.failure for p in parts]),
        kl=None if reference is None else np.concatenate([p.kl for p in parts]),
        member_returns={
            name: np.concatenate([p.member_returns[name] for p in parts], axis=1)
            for name in (proxies or {})
        },  # fmt: skip
        steps=steps,
        lengths=np.concatenate([p.lengths for p in parts]),
    )


def _batches(total: int, most: int) -> list[int]:
    return [min(most, total - start) for start in range(0, total, most)]


def _pad(array: np.ndarray, length: int) -> np.ndarray:
    missing = length - array.shape[1]
    if missing == 0:
        return array
    return np.concatenate(
        [array, np.zeros((len(array), missing, *array.shape[2:]), array.dtype)], 1
    )


def _batch(settings: Settings, policy: FastPPOAgent, n: int, seed: int,
           proxies: dict[str, Proxy], reference: FastPPOAgent | None,
           keep_steps: bool) -> Episodes:  # fmt: skip
    env = settings.make_env(n)
    card = card_of(env)
    failure_index = card.events.index(card.failure_event)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    alive = np.ones(n, dtype=bool)
    gold, observed, kl = np.zeros(n), np.zeros(n), np.zeros(n)
    failure = np.zeros(n, dtype=bool)
    lengths = np.zeros(n, dtype=np.int64)
    member_returns = {name: np.zeros((proxy.members, n)) for name, proxy in proxies.items()}
    kept: list[tuple[np.ndarray, ...]] = []
    while alive.any():
        flat = flat_observations(obs)
        log_probs = policy.log_probabilities(flat)
        probs = np.exp(log_probs)
        cumulative = probs.cumsum(axis=1)
        draws = rng.random((n, 1)) * cumulative[:, -1:]
        actions = np.minimum((cumulative < draws).sum(axis=1), probs.shape[1] - 1)
        if reference is not None:
            step_kl = (probs * (log_probs - reference.log_probabilities(flat))).sum(axis=1)
            kl += np.where(alive, step_kl, 0.0)
        for name, proxy in proxies.items():
            member_returns[name] += np.where(alive, proxy.member_rewards(flat, actions), 0.0)
        next_obs, rewards, terminated, truncated, infos = env.step(actions)
        contract = step_contract(infos, n, card.events)
        if keep_steps:
            kept.append((flat, actions, np.asarray(rewards, float), contract.performance))
        gold += np.where(alive, contract.performance, 0.0)
        observed += np.where(alive, rewards, 0.0)
        failure |= alive & (contract.events[:, failure_index] > 0)
        lengths += alive
        alive &= ~(terminated | truncated)
        obs = next_obs
    env.close()
    steps = None
    if keep_steps:
        steps = Segments(*(np.stack([step[k] for step in kept], axis=1) for k in range(4)))
    return Episodes(gold, observed, failure, kl if reference is not None else None,
                    member_returns, steps, lengths)  # fmt: skip


def segments_of(steps: Segments, lengths: np.ndarray, segment_length: int) -> Segments:
    """Every whole, non-overlapping segment of ``segment_length`` steps within each
    episode."""
    picks = [(e, start) for e, length in enumerate(lengths.tolist())
             for start in range(0, length - segment_length + 1, segment_length)]  # fmt: skip
    if not picks:
        raise ValueError(f"no episode is {segment_length} steps long: shorten segment_length")
    episode = np.array([e for e, _ in picks])
    at = np.array([s for _, s in picks])[:, None] + np.arange(segment_length)
    return Segments(
        steps.observations[episode[:, None], at], steps.actions[episode[:, None], at],
        steps.rewards[episode[:, None], at], steps.performance[episode[:, None], at],
    )  # fmt: skip
