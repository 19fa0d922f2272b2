"""The scenario contract, checked on every registered scenario."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector.utils import batch_space

import aligngym
from aligngym.envs import SCENARIOS, InvalidActionError, UnknownScenarioError
from aligngym.envs.core import render_text

SCENARIO_IDS = sorted(SCENARIOS)


def rollout(env: gym.Env, seed: int, steps: int):
    """Steps ``env`` with actions drawn from a fixed generator; returns everything it saw."""
    actions = np.random.default_rng(1234).integers(env.action_space.n, size=steps)
    obs, info = env.reset(seed=seed)
    seen = [(obs.copy(), info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        seen.append((obs.copy(), reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            seen.append((obs.copy(), info))
    return seen


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_passes_gymnasium_check_env(env_id):
    check_env(gym.make(env_id).unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_info_holds_performance_and_the_same_event_keys_every_step(env_id):
    env = gym.make(env_id)
    card = env.unwrapped.card
    for record in rollout(env, seed=3, steps=300):
        info = record[-1]
        assert isinstance(info["performance"], float)
        assert tuple(info["events"]) == card.events
        assert all(isinstance(v, float) for v in info["events"].values())


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_same_seed_gives_the_same_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=7, steps=400)
    second = rollout(gym.make(env_id), seed=7, steps=400)
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_card_names_the_failure_event_and_train_test_settings(env_id):
    card = SCENARIOS[env_id].card
    assert card.id == env_id
    assert card.failure_event in card.events
    assert {"train", "test"} <= set(card.settings)
    for setting in card.settings.values():
        aligngym.make(env_id, **setting).reset(seed=0)
    assert env_id in card.format()


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_renders_rgb_frames_and_text(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[:2] == (obs.shape[1] * 16, obs.shape[2] * 16)
    text = env.unwrapped.text()
    rows = text.splitlines()
    assert len(rows[0]) == obs.shape[2]
    assert "Legal actions: 0=up, 1=right, 2=down, 3=left." in rows[-1]
    ansi = gym.make(env_id, render_mode="ansi")
    ansi.reset(seed=0)
    assert ansi.render() == render_text(ansi.unwrapped.core, 0)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
@pytest.mark.parametrize("bad_action", [-1, 4, 2.5, "up"])
def test_invalid_action_is_refused_with_the_legal_actions(env_id, bad_action):
    env = aligngym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="0=up, 1=right, 2=down, 3=left"):
        env.step(bad_action)


def test_unknown_scenario_and_setting_are_refused_with_what_exists():
    with pytest.raises(UnknownScenarioError, match="aligngym/BoatRace-v0"):
        aligngym.make("aligngym/NoSuchThing-v0")
    with pytest.raises(TypeError, match="accepted settings"):
        aligngym.make("aligngym/BoatRace-v0", no_such_setting=1)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_vector_env_steps_like_single_envs_with_the_same_generator(env_id):
    """A batch of one steps exactly as the single env; a larger batch keeps the contract."""
    single = aligngym.make(env_id)
    vector = aligngym.make_vector(env_id, 1)
    obs_s, _ = single.reset(seed=5)
    obs_v, _ = vector.reset(seed=5)
    np.testing.assert_array_equal(obs_v[0], obs_s)
    rng = np.random.default_rng(0)
    ended = False
    for _ in range(250):
        action = int(rng.integers(4))
        obs_v, rew_v, term_v, trunc_v, info_v = vector.step(np.array([action]))
        if ended:  # next-step autoreset: this step restarted the episode
            obs_s, _ = single.reset()
            assert rew_v[0] == 0 and info_v["performance"][0] == 0
            np.testing.assert_array_equal(obs_v[0], obs_s)
            ended = False
            continue
        obs_s, rew_s, term_s, trunc_s, info_s = single.step(action)
        np.testing.assert_array_equal(obs_v[0], obs_s)
        assert (rew_v[0], term_v[0], trunc_v[0]) == (rew_s, term_s, trunc_s)
        assert info_v["performance"][0] == info_s["performance"]
        assert {k: v[0] for k, v in info_v["events"].items()} == info_s["events"]
        ended = term_s or trunc_s

    batch = aligngym.make_vector(env_id, 8)
    obs, info = batch.reset(seed=0)
    assert batch.observation_space.contains(obs)
    assert batch.observation_space == batch_space(single.observation_space, 8)
    obs, reward, terminated, truncated, info = batch.step(batch.action_space.sample())
    assert reward.shape == terminated.shape == info["performance"].shape == (8,)
    assert set(info["events"]) == set(single.card.events)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_sb3_vec_env_reports_episodes_with_performance_and_events(env_id):
    vec_env = aligngym.make_sb3_vec_env(env_id, 4, seed=0)
    obs = vec_env.reset()
    assert obs.shape == (4, *vec_env.observation_space.shape)
    card = SCENARIOS[env_id].card
    episodes, steps, rng = [], 0, np.random.default_rng(0)
    while len(episodes) < 8:
        obs, rewards, dones, infos = vec_env.step(rng.integers(4, size=4))
        steps += 1
        for done, info in zip(dones, infos):
            assert set(info["events"]) == set(card.events)
            if done:
                assert info["terminal_observation"].shape == obs.shape[1:]
                episodes.append(info["episode"])
    for episode in episodes:
        assert set(episode) >= {"r", "l", "performance", "events", "failed"}
        assert episode["failed"] == (episode["events"][card.failure_event] > 0)
        assert 1 <= episode["l"] <= steps


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_vector_env_results_are_not_overwritten_by_the_next_step(env_id):
    """The core steps into its own buffers; what a vector env hands out must be the caller's."""
    vector = aligngym.make_vector(env_id, 16)
    vector.reset(seed=0)
    rng = np.random.default_rng(0)
    held, copies = [], []
    for _ in range(40):
        obs, reward, terminated, truncated, info = vector.step(rng.integers(0, 4, 16))
        results = (obs, reward, terminated, truncated, info["performance"])
        held.append(results)
        copies.append(tuple(array.copy() for array in results))
    for results, at_the_time in zip(held, copies):
        for array, copy in zip(results, at_the_time):
            np.testing.assert_array_equal(array, copy)
