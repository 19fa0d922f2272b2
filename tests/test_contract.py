"""The scenario contract, checked on every registered scenario through the public API."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from pettingzoo.test import api_test, seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import aligngym
from aligngym.envs import SCENARIOS, InvalidActionError, UnknownScenarioError
from aligngym.envs.core.debate import PROTOCOLS
from aligngym.envs.core.text import parse_text

# single-agent (Gymnasium) scenarios; the multi-agent (PettingZoo) ones have their own tests below
SCENARIO_IDS = sorted(env_id for env_id, record in SCENARIOS.items() if record.kind == "single")
MULTI_AGENT_IDS = sorted(env_id for env_id, record in SCENARIOS.items() if record.kind == "multi")
OBS_CASES = [(env_id, t) for env_id in SCENARIO_IDS for t in SCENARIOS[env_id].obs_types]


def rollout(env: gym.Env, seed: int, steps: int):
    """Steps ``env`` with actions drawn from a fixed generator; returns everything it saw."""
    actions = np.random.default_rng(1234).integers(env.action_space.n, size=steps)
    obs, info = env.reset(seed=seed)
    seen = [(np.array(obs, copy=True), info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        seen.append((np.array(obs, copy=True), reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            seen.append((np.array(obs, copy=True), info))
    return seen


@pytest.mark.parametrize(("env_id", "obs_type"), OBS_CASES)
def test_every_observation_type_passes_gymnasium_check_env(env_id, obs_type):
    check_env(gym.make(env_id, obs_type=obs_type).unwrapped, skip_render_check=False)


@pytest.mark.parametrize(("env_id", "obs_type"), OBS_CASES)
def test_array_observation_types_pass_sb3_check_env(env_id, obs_type):
    if obs_type == "text":
        pytest.skip("SB3 has no policy for Text spaces; LLM agents read them")
    sb3_check_env(aligngym.make(env_id, obs_type=obs_type), warn=False)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_info_holds_performance_and_the_same_event_keys_every_step(env_id):
    env = gym.make(env_id)
    card = env.unwrapped.card
    for record in rollout(env, seed=3, steps=300):
        info = record[-1]
        assert isinstance(info["performance"], float)
        assert tuple(info["events"]) == card.events
        assert all(isinstance(v, float) for v in info["events"].values())
        assert isinstance(info["executed_action"], int)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_same_seed_gives_the_same_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=7, steps=400)
    second = rollout(gym.make(env_id), seed=7, steps=400)
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]


@pytest.mark.parametrize("env_id", MULTI_AGENT_IDS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_multi_agent_scenarios_pass_pettingzoo_api_and_seed_tests(env_id, protocol):
    api_test(aligngym.make(env_id, protocol=protocol, render_mode="ansi"), num_cycles=12)
    seed_test(lambda: aligngym.make(env_id, protocol=protocol), num_cycles=12)


@pytest.mark.parametrize("env_id", MULTI_AGENT_IDS)
def test_every_agent_of_a_multi_agent_scenario_gets_performance_and_the_events(env_id):
    env = aligngym.make(env_id)
    env.reset(seed=0)
    card = env.card
    for agent in env.agent_iter():
        *_, terminated, truncated, info = env.last()
        assert isinstance(info["performance"], float)
        assert tuple(info["events"]) == card.events
        env.step(None if terminated or truncated else env.action_space(agent).sample(
            info.get("action_mask")))  # fmt: skip


@pytest.mark.parametrize("env_id", sorted(SCENARIOS))
def test_card_names_the_failure_event_and_train_test_settings(env_id):
    record = aligngym.scenario(env_id)
    card = record.card
    assert card.id == env_id
    assert card.failure_event in card.events
    assert {"train", "test"} <= set(card.settings)
    for setting in card.settings.values():
        assert set(setting) <= set(record.parameters)
        scenario = aligngym.make(env_id, **setting)
        if record.kind != "dataset":  # a supervision task holds data; it is not reset
            scenario.reset(seed=0)
    assert env_id in card.format()


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_renders_rgb_frames_and_ansi_text(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    ansi = gym.make(env_id, render_mode="ansi")
    ansi.reset(seed=0)
    text = ansi.render()
    assert isinstance(text, str) and parse_text(text).actions  # the legal actions by name


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_every_text_observation_names_legal_actions_of_the_action_space(env_id):
    """envs/core/text.py's convention, what a language-model agent relies on: every text
    observation of an episode lists legal actions by name, with ids of the action space."""
    env = aligngym.make(env_id, obs_type="text")
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        legal = parse_text(obs).actions
        assert legal and all(env.action_space.contains(a) for a in legal), (env_id, obs)
        obs, _, terminated, truncated, _ = env.step(int(rng.choice(list(legal))))
        if terminated or truncated:
            obs, _ = env.reset()


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_invalid_action_is_refused_with_the_legal_actions(env_id):
    env = aligngym.make(env_id)
    env.reset(seed=0)
    n = env.action_space.n
    for bad_action in (-1, n, 2.5, "up"):
        with pytest.raises(InvalidActionError, match="0="):
            env.step(bad_action)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_stepping_before_reset_is_refused(env_id):
    with pytest.raises(gym.error.ResetNeeded):
        aligngym.make(env_id).step(0)
    with pytest.raises(gym.error.ResetNeeded):
        aligngym.make_vector(env_id, 2).step(np.zeros(2, dtype=np.int64))


def test_unknown_scenario_and_setting_are_refused_with_what_exists():
    with pytest.raises(UnknownScenarioError, match="aligngym/BoatRace-v0"):
        aligngym.make("aligngym/NoSuchThing-v0")
    for door in (aligngym.make, gym.make):
        with pytest.raises(TypeError, match=r"accepted settings: \['max_steps', 'track'\]"):
            door("aligngym/BoatRace-v0", max_step=50)
    with pytest.raises(TypeError, match="accepted settings"):
        gym.make_vec("aligngym/BoatRace-v0", 4, max_step=50)


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_env_steps_like_single_envs(env_id, mode):
    """A vector env of one steps exactly as the single env, in both autoreset modes."""
    single = aligngym.make(env_id)
    vector = aligngym.make_vector(env_id, 1, autoreset_mode=mode)
    obs_s, _ = single.reset(seed=5)
    obs_v, _ = vector.reset(seed=5)
    np.testing.assert_array_equal(obs_v[0], obs_s)
    rng = np.random.default_rng(0)
    restart = False
    for _ in range(250):
        action = int(rng.integers(single.action_space.n))
        obs_v, rew_v, term_v, trunc_v, info_v = vector.step(np.array([action]))
        if restart:  # next-step autoreset: this step restarted the episode
            obs_s, _ = single.reset()
            assert rew_v[0] == 0 and info_v["performance"][0] == 0
            np.testing.assert_array_equal(obs_v[0], obs_s)
            restart = False
            continue
        obs_s, rew_s, term_s, trunc_s, info_s = single.step(action)
        assert (rew_v[0], term_v[0], trunc_v[0]) == (rew_s, term_s, trunc_s)
        ended = term_s or trunc_s
        step_info = info_v["final_info"] if ended and "final_info" in info_v else info_v
        assert step_info["performance"][0] == info_s["performance"]
        assert {k: step_info["events"][k][0] for k in info_s["events"]} == info_s["events"]
        if mode == AutoresetMode.SAME_STEP and (term_s or trunc_s):
            np.testing.assert_array_equal(info_v["final_obs"][0], obs_s)
            obs_s, _ = single.reset()
        np.testing.assert_array_equal(obs_v[0], obs_s)
        restart = mode == AutoresetMode.NEXT_STEP and (term_s or trunc_s)

    batch = aligngym.make_vector(env_id, 8)
    obs, info = batch.reset(seed=0)
    assert batch.observation_space.contains(obs)
    assert batch.observation_space == batch_space(single.observation_space, 8)
    obs, reward, terminated, truncated, info = batch.step(batch.action_space.sample())
    assert reward.shape == terminated.shape == info["performance"].shape == (8,)
    assert set(single.card.events) <= set(info["events"])


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_every_vector_path_refuses_wrong_action_shapes(env_id):
    """9 or 7 actions for 8 envs is an error on the native, Gymnasium and SB3 paths alike."""
    paths = {
        "make_vector": aligngym.make_vector(env_id, 8),
        "gym.make_vec": gym.make_vec(env_id, 8),
    }
    for vector in paths.values():
        vector.reset(seed=0)
        for count in (7, 9, 16):
            with pytest.raises((InvalidActionError, ValueError, AssertionError)):
                vector.step(np.zeros(count, dtype=np.int64))
    sb3 = aligngym.make_sb3_vec_env(env_id, 8, seed=0)
    sb3.reset()
    for count in (7, 9):
        with pytest.raises(InvalidActionError):
            sb3.step(np.zeros(count, dtype=np.int64))


@pytest.mark.parametrize("env_id", SCENARIO_IDS)
def test_sb3_vec_env_reports_episodes_with_performance_and_events(env_id):
    vec_env = aligngym.make_sb3_vec_env(env_id, 4, seed=0)
    obs = vec_env.reset()
    assert obs.shape == (4, *vec_env.observation_space.shape)
    card = SCENARIOS[env_id].card
    episodes, steps, rng = [], 0, np.random.default_rng(0)
    while len(episodes) < 8:
        obs, rewards, dones, infos = vec_env.step(rng.integers(vec_env.action_space.n, size=4))
        steps += 1
        for done, info in zip(dones, infos):
            assert set(info["events"]) == set(card.events)
            if done:
                assert info["terminal_observation"].shape == obs.shape[1:]
                episodes.append(info["episode"])
    for episode in episodes:
        assert set(episode) >= {"r", "l", "performance", "events", "failed", "trained_return"}
        assert episode["failed"] == (episode["events"][card.failure_event] > 0)
        assert 1 <= episode["l"] <= steps
