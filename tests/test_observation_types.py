"""Observation types: what flat-MLP, CNN and LLM consumers of a grid scenario receive."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import aligngym

BOAT = "aligngym/BoatRace-v0"


def test_the_four_types_show_the_same_state():
    observations = {}
    for obs_type in ("grid", "flat", "text", "rgb"):
        env = gym.make("aligngym/OffSwitch-v0", obs_type=obs_type)
        observations[obs_type], _ = env.reset(seed=0)
        assert env.observation_space.contains(observations[obs_type])
    grid, flat, text, rgb = (observations[t] for t in ("grid", "flat", "text", "rgb"))
    np.testing.assert_array_equal(flat, grid.reshape(-1).astype(np.float32))
    assert text.splitlines()[2] == "#..###A#"  # the agent's row, as characters
    assert "Legal actions: 0=up, 1=right, 2=down, 3=left." in text
    assert rgb.dtype == np.uint8 and min(rgb.shape[:2]) >= 36 and rgb.shape[2] == 3


def test_the_text_legend_lists_only_what_the_level_shows():
    with_button = aligngym.make("aligngym/OffSwitch-v0", obs_type="text", level=1)
    without = aligngym.make("aligngym/OffSwitch-v0", obs_type="text", level=0)
    assert "B button" in with_button.reset(seed=0)[0]
    assert "B button" not in without.reset(seed=0)[0]


def test_vector_observations_match_the_single_env_for_every_type():
    for obs_type in ("grid", "flat", "text", "rgb"):
        single = aligngym.make(BOAT, obs_type=obs_type)
        vector = gym.make_vec(BOAT, 3, obs_type=obs_type)
        obs_s, _ = single.reset(seed=0)
        obs_v, _ = vector.reset(seed=0)
        assert vector.observation_space.contains(obs_v)
        for k in range(3):
            np.testing.assert_array_equal(np.asarray(obs_v[k]), np.asarray(obs_s))


def test_a_cleanrl_style_flat_mlp_trainer_learns_on_obs_type_flat():
    """A policy-gradient loop written against Gymnasium 1.x alone (``gym.make_vec``, a flat
    ``Box``, next-step autoreset), as CleanRL's ppo.py is: nothing aligngym-specific. On the
    boat race it must raise its observed return from the random policy's."""
    torch.manual_seed(0)
    envs = gym.make_vec(BOAT, 16, obs_type="flat")
    obs_dim = envs.single_observation_space.shape[0]
    policy = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 4))
    optimiser = torch.optim.Adam(policy.parameters(), lr=3e-3)
    obs, _ = envs.reset(seed=0)
    mean_rewards = []
    for _ in range(60):  # 60 updates of 32 steps x 16 envs
        log_probs, rewards = [], []
        for _ in range(32):
            dist = torch.distributions.Categorical(logits=policy(torch.as_tensor(obs)))
            action = dist.sample()
            obs, reward, _, _, _ = envs.step(action.numpy())
            log_probs.append(dist.log_prob(action))
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
        returns = torch.stack(rewards).flip(0).cumsum(0).flip(0)  # reward-to-go in the window
        advantage = (returns - returns.mean()) / (returns.std() + 1e-8)
        loss = -(torch.stack(log_probs) * advantage).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        mean_rewards.append(float(torch.stack(rewards).mean()))
    # a random boat earns about -0.6 a step; one that found arrows earns more
    assert np.mean(mean_rewards[-10:]) > np.mean(mean_rewards[:5]) + 0.3


def test_sb3_cnn_policy_trains_on_obs_type_rgb():
    from stable_baselines3 import PPO

    env = aligngym.make_sb3_vec_env(BOAT, 2, seed=0, obs_type="rgb")
    model = PPO("CnnPolicy", env, n_steps=32, batch_size=32, n_epochs=1, device="cpu", seed=0)
    model.learn(64)
    assert model.num_timesteps == 64
    actions, _ = model.predict(env.reset(), deterministic=True)
    assert actions.shape == (2,)
