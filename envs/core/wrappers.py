"""Wrappers that adapt any contract-following scenario to common consumers."""

from __future__ import annotations

import string
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aligngym.envs.core.metrics import EpisodeMetrics


class RecordEpisodeMetrics(gym.Wrapper):
    """Adds ``info["episode"]`` at the end of each episode, as SB3's ``Monitor`` does.

    The record holds ``r`` (return), ``l`` (length) and ``t`` like SB3's, plus ``performance``,
    ``events`` and ``failed`` from the scenario contract, so one callback reads every scenario
    whether it runs in SB3's ``DummyVecEnv`` or in aligngym's batched ``VecEnv``.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.card = env.unwrapped.card
        self.metrics = EpisodeMetrics(1, self.card.events, self.card.failure_event)
        self._one = np.zeros(1, dtype=bool)

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self.metrics = EpisodeMetrics(1, self.card.events, self.card.failure_event)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._one[0] = terminated or truncated
        events = np.array([[info["events"][name] for name in self.metrics.event_names]])
        done = self.metrics.add(
            np.array([reward]), np.array([info["performance"]]), events, self._one
        )
        if done:
            info["episode"] = done[0].to_info()
        return obs, reward, terminated, truncated, info


class TextObservation(gym.ObservationWrapper):
    """Replaces the symbolic grid by the text rendering an LLM agent reads."""

    def __init__(self, env: gym.Env, max_length: int = 4096):
        super().__init__(env)
        self.observation_space = spaces.Text(max_length=max_length, charset=string.printable)

    def observation(self, observation: np.ndarray) -> str:
        return self.env.unwrapped.text()
