"""Preference labellers and the Bradley-Terry reward model, on segments whose true and
observed rewards are known: labellers choose as their stated quality says, and the reward
model recovers the preferences it was fitted to."""

from __future__ import annotations

import numpy as np
import pytest

from aligngym.oversight.preferences.labellers import (
    NoisyLabeller,
    OracleLabeller,
    PartialLabeller,
    RewardBiasedLabeller,
)
from aligngym.oversight.preferences.reward_model import RewardModel
from aligngym.oversight.preferences.segments import Segments

LENGTH, OBS, ACTIONS = 10, 5, 4


def segments(k: int, seed: int) -> Segments:
    """Random segments: performance pays action 2, the observed reward pays action 1."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(ACTIONS, size=(k, LENGTH))
    observations = rng.random((k, LENGTH, OBS))
    return Segments(observations, actions, (actions == 1) * 1.0, (actions == 2) * 1.0)


def scaled(s: Segments, factor: float) -> Segments:
    return Segments(s.observations, s.actions, s.rewards * factor, s.performance * factor)


def test_the_oracle_is_boltzmann_rational_with_a_temperature_relative_to_the_return_scale():
    a, b = segments(4000, 1), segments(4000, 2)
    exact = OracleLabeller(temperature=0).label(a, b)
    better = a.performance.sum(1) > b.performance.sum(1)
    assert np.all(exact[better] == 1) and np.all(
        exact[b.performance.sum(1) > a.performance.sum(1)] == 0
    )
    noisy = OracleLabeller(temperature=0.5, seed=3).label(a, b)
    difference = a.performance.sum(1) - b.performance.sum(1)
    spread = np.concatenate([a.performance.sum(1), b.performance.sum(1)]).std(ddof=1)
    expected = 1 / (1 + np.exp(-difference / (0.5 * spread)))
    tolerance = 4 * np.sqrt((expected * (1 - expected)).sum()) / len(expected)
    assert abs(noisy.mean() - expected.mean()) < tolerance
    assert 0.6 < (noisy == exact)[difference != 0].mean() < 0.95  # neither coin nor oracle
    # the same overseer on returns 100 times larger: the same choices
    again = OracleLabeller(temperature=0.5, seed=3).label(scaled(a, 100), scaled(b, 100))
    np.testing.assert_array_equal(again, noisy)


def test_the_noisy_labeller_flips_the_stated_share_of_answers():
    a, b = segments(4000, 1), segments(4000, 2)
    oracle = OracleLabeller(temperature=0, seed=5).label(a, b)
    noisy = NoisyLabeller(temperature=0, error_rate=0.25, seed=5).label(a, b)
    decided = a.performance.sum(1) != b.performance.sum(1)
    assert abs((noisy != oracle)[decided].mean() - 0.25) < 0.03


def test_the_reward_biased_labeller_follows_the_observed_reward_not_the_truth():
    a, b = segments(2000, 1), segments(2000, 2)
    labels = RewardBiasedLabeller(temperature=0).label(a, b)
    observed = a.rewards.sum(1) - b.rewards.sum(1)
    truth = a.performance.sum(1) - b.performance.sum(1)
    disagree = np.sign(observed) * np.sign(truth) < 0
    assert disagree.sum() > 100
    assert np.all(labels[disagree] == (observed[disagree] > 0))


def test_the_partial_labeller_sees_only_the_first_part_of_each_segment():
    a, b = segments(2000, 1), segments(2000, 2)
    # the segments differ only in their second half
    half = LENGTH // 2
    actions = np.concatenate([a.actions[:, :half], b.actions[:, half:]], 1)
    performance = np.concatenate([a.performance[:, :half], b.performance[:, half:]], 1)
    b = Segments(b.observations, actions, b.rewards, performance)
    decided = a.performance.sum(1) != b.performance.sum(1)
    oracle = OracleLabeller(temperature=0).label(a, b)
    partial = PartialLabeller(temperature=0, fraction=0.5, seed=1).label(a, b)
    truth = (a.performance.sum(1) > b.performance.sum(1))[decided]
    assert np.all(oracle[decided] == truth)
    assert abs((partial[decided] == truth).mean() - 0.5) < 0.05  # a coin toss: it cannot see


@pytest.mark.parametrize("members", [1, 3])
def test_the_reward_model_recovers_the_labellers_preferences(members):
    train_a, train_b = segments(600, 1), segments(600, 2)
    labels = OracleLabeller(temperature=0.05, seed=0).label(train_a, train_b)
    model = RewardModel(OBS, ACTIONS, members=members, seed=0)
    model.fit(train_a, train_b, labels, epochs=30)
    test_a, test_b = segments(1000, 3), segments(1000, 4)
    truth = test_a.performance.sum(1) - test_b.performance.sum(1)
    predicted = model.preference_probability(test_a, test_b) > 0.5
    agreement = (predicted == (truth > 0))[truth != 0].mean()
    assert agreement > 0.9
    # it learnt that action 2 pays, not action 1 (which the observed reward pays)
    rewards = model.rewards(test_a.observations, test_a.actions)
    assert rewards[test_a.actions == 2].mean() > rewards[test_a.actions == 1].mean() + 0.5


def test_ensemble_combinations_are_pessimistic_as_stated():
    a, b = segments(300, 1), segments(300, 2)
    labels = OracleLabeller(temperature=0.05).label(a, b)
    models = {
        c: RewardModel(OBS, ACTIONS, members=3, combine=c, seed=0)
        for c in ("mean", "worst", "uncertainty")
    }
    for model in models.values():
        model.fit(a, b, labels, epochs=5)
    members = models["mean"].member_rewards(a.observations, a.actions)
    np.testing.assert_allclose(
        models["mean"].rewards(a.observations, a.actions), members.mean(0), rtol=1e-6
    )
    worst = models["worst"]
    np.testing.assert_allclose(
        worst.rewards(a.observations, a.actions),
        worst.member_rewards(a.observations, a.actions).min(0),
    )
    uncertain = models["uncertainty"]
    spread = uncertain.member_rewards(a.observations, a.actions)
    np.testing.assert_allclose(
        uncertain.rewards(a.observations, a.actions),
        spread.mean(0) - spread.std(0),
        rtol=1e-5,
        atol=1e-6,
    )
    assert spread.std(0).mean() > 0  # the bootstrap resamples made the members disagree


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        OracleLabeller(temperature=-1)
    with pytest.raises(ValueError, match="error_rate"):
        NoisyLabeller(error_rate=1.5)
    with pytest.raises(ValueError, match="fraction"):
        PartialLabeller(fraction=0)
    with pytest.raises(ValueError, match="combine"):
        RewardModel(OBS, ACTIONS, combine="median")
    with pytest.raises(ValueError, match="as many segments"):
        OracleLabeller().label(segments(3, 1), segments(4, 2))
    with pytest.raises(ValueError, match="shape"):
        Segments(np.zeros((2, 3, 1)), np.zeros((2, 3), int), np.zeros((2, 4)), np.zeros((2, 3)))
