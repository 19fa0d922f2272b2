"""Fitting the proxies: pairs of the initial policy's segments labelled by the noisy
labeller, a single Bradley-Terry model and an ensemble fitted to them, and their agreement
with the truth on held-out pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aligngym.oversight.overoptimisation.episodes import Episodes, segments_of
from aligngym.oversight.overoptimisation.proxy import Proxy
from aligngym.oversight.overoptimisation.settings import OBJECTIVES, Settings
from aligngym.oversight.preferences.labellers import NoisyLabeller
from aligngym.oversight.preferences.reward_model import RewardModel
from aligngym.oversight.preferences.segments import Segments


def _take(segments: Segments, index: np.ndarray) -> Segments:
    return Segments(segments.observations[index], segments.actions[index],
                    segments.rewards[index], segments.performance[index])  # fmt: skip


@dataclass
class Proxies:
    """The fitted proxies and how well they agree with the truth.

    Attributes:
        single: the single model; ``ensemble``: the ensemble.
        labels_agreement: the share of labels that agree with the true preference.
        held_out_agreement: per proxy, how often it prefers the truly better segment of
            fresh pairs of ``pi_init``'s segments (ties in truth left out).
    """

    single: Proxy
    ensemble: Proxy
    labels_agreement: float
    held_out_agreement: dict[str, float]

    def for_objective(self, objective: str) -> Proxy:
        return self.single if objective == "single" else self.ensemble


def fit_proxies(settings: Settings, episodes: Episodes) -> Proxies:
    """Labels ``settings.pairs`` pairs of ``pi_init``'s segments with the noisy labeller and
    fits the single model and the ensemble to them."""
    segments = segments_of(episodes.steps, episodes.lengths, settings.segment_length)
    rng = np.random.default_rng(settings.seed)
    half = len(segments) // 2  # the first half for labels, the rest for held-out pairs
    if half < 2:
        raise ValueError(f"{len(segments)} segments are too few: raise label_episodes")
    train_a, train_b = _pairs(rng, np.arange(half), settings.pairs)
    a, b = _take(segments, train_a), _take(segments, train_b)
    labeller = NoisyLabeller(settings.temperature, settings.error_rate, seed=settings.seed)
    labels = labeller.label(a, b)
    truth = a.performance.sum(1) - b.performance.sum(1)
    decided = truth != 0
    labels_agreement = float((labels == (truth > 0))[decided].mean()) if decided.any() else 1.0
    steps = segments.observations.reshape(-1, segments.observations.shape[-1])
    step_actions = segments.actions.reshape(-1)
    proxies = {}
    for name, members in (("single", 1), ("ensemble", settings.members)):
        model = RewardModel(segments.observations.shape[-1], _num_actions(settings), members,
                            settings.hidden, seed=settings.seed)  # fmt: skip
        model.fit(a, b, labels, epochs=settings.epochs)
        proxies[name] = Proxy(model, steps, step_actions, settings.uncertainty_weight)
    held_a, held_b = _pairs(rng, np.arange(half, len(segments)), 1000)
    ha, hb = _take(segments, held_a), _take(segments, held_b)
    truth = ha.performance.sum(1) - hb.performance.sum(1)
    agreement = {}
    for objective in OBJECTIVES:
        proxy = proxies["single" if objective == "single" else "ensemble"]
        score = [proxy.combine(proxy.member_rewards(s.observations, s.actions).sum(-1), objective)
                 for s in (ha, hb)]  # fmt: skip
        decided = truth != 0
        agreement[objective] = float(((score[0] > score[1]) == (truth > 0))[decided].mean())
    return Proxies(proxies["single"], proxies["ensemble"], labels_agreement, agreement)


def _pairs(rng: np.random.Generator, pool: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
    """``count`` pairs of distinct members of ``pool``."""
    first = rng.integers(len(pool), size=count)
    second = (first + rng.integers(1, len(pool), size=count)) % len(pool)
    return pool[first], pool[second]


def _num_actions(settings: Settings) -> int:
    env = settings.make_env(1)
    try:
        return int(env.single_action_space.n)
    finally:
        env.close()
