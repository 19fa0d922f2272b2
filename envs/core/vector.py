"""Vectorised environments over one batched :class:`GridCore`.

Both classes step all their environments with a single call of the core's array code:

- :class:`GridVectorEnv` is a native ``gymnasium.vector.VectorEnv`` (next-step autoreset, as
  Gymnasium's own vector envs do by default);
- :class:`GridSB3VecEnv` is a stable-baselines3 ``VecEnv`` (same-step autoreset with
  ``terminal_observation``, as SB3 expects), and reports each finished episode's return,
  length, performance, events and failure flag in ``info["episode"]``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from aligngym.envs.core.env import GridEnv, check_actions
from aligngym.envs.core.metrics import EpisodeMetrics
from aligngym.envs.core.render import render_rgb, render_text


def event_dicts(names: Sequence[str], events: np.ndarray) -> Iterator[dict[str, float]]:
    """Yields one ``{name: count}`` dict per row of ``events`` (shape ``(n, len(names))``).

    Built from the columns (one ``(name, value)`` pair stream per event, zipped per
    environment), which is about twice as fast for thousands of environments as calling
    ``dict(zip(names, row))`` on every row of ``events.tolist()``.
    """
    if not names:
        return ({} for _ in range(len(events)))
    columns = [zip(repeat(name), column) for name, column in zip(names, events.T.tolist())]
    return map(dict, zip(*columns))


class GridVectorEnv(VectorEnv):
    """``num_envs`` copies of a gridworld scenario stepped as one array computation.

    Args:
        env_class: the scenario (a :class:`GridEnv` subclass).
        num_envs: the batch size.
        render_mode: ``"rgb_array"`` renders the first environment; ``"ansi"`` its text.
        **settings: the scenario's settings, shared by every environment.

    ``infos`` holds ``performance`` and ``executed_action`` arrays and ``events``, a dict of
    arrays, each of shape ``(num_envs,)``. An environment that ended on one step is reset on the
    next, which returns its first observation with zero reward (``AutoresetMode.NEXT_STEP``).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array", "ansi"]}

    def __init__(
        self,
        env_class: type[GridEnv],
        num_envs: int,
        render_mode: str | None = None,
        **settings: Any,
    ):
        self.env_class = env_class
        self.spec = None
        self.render_mode = render_mode
        self.num_envs = num_envs
        self.core = env_class.core_class(num_envs=num_envs, **settings)
        self.single_observation_space = spaces.Box(
            0, 1, self.core.observation_shape, dtype=np.uint8
        )
        self.single_action_space = spaces.Discrete(len(self.core.action_names))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._zeros = np.zeros(num_envs)
        self._no_events = np.zeros((num_envs, len(self.core.event_names)))
        self._started = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None or not self._started:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        self.core.rng = self._np_random
        self.core.reset(self.core.arange)
        self._autoreset[:] = False
        self._started = True
        info = self._info(self._zeros, self._no_events, np.full(self.num_envs, -1))
        return self.core.observe().copy(), info

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        check_actions(actions, self.single_action_space.n, self.core.action_names, "vector env")
        resetting = self._autoreset
        tr = self.core.step(actions)
        # the core's buffers are overwritten by its next step: hand the caller copies
        reward, terminated, truncated = tr.reward.copy(), tr.terminated.copy(), tr.truncated.copy()
        performance, events = tr.performance.copy(), tr.events.copy()
        executed = tr.executed_action.copy()
        if resetting.any():
            ids = np.flatnonzero(resetting)
            self.core.reset(ids)
            for array in (reward, performance, events):
                array[ids] = 0
            terminated[ids] = False
            truncated[ids] = False
            executed[ids] = -1
        self._autoreset = terminated | truncated
        info = self._info(performance, events, executed)
        return self.core.observe().copy(), reward, terminated, truncated, info

    def _info(self, performance: np.ndarray, events: np.ndarray, executed: np.ndarray) -> dict:
        return {
            "performance": performance,
            "events": {name: events[:, k] for k, name in enumerate(self.core.event_names)},
            "executed_action": executed,
        }

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            return render_rgb(self.core, 0)
        if self.render_mode == "ansi":
            return render_text(self.core, 0)
        return None


class GridSB3VecEnv(VecEnv):
    """A stable-baselines3 ``VecEnv`` over one batched gridworld core.

    Args:
        env_class: the scenario (a :class:`GridEnv` subclass).
        num_envs: the batch size.
        **settings: the scenario's settings, shared by every environment.

    Each step's ``infos[i]`` holds ``performance``, ``events`` and ``executed_action``; at the
    end of an episode also ``terminal_observation``, ``TimeLimit.truncated`` and ``episode``
    (``r``, ``l``, ``t`` as SB3's ``Monitor`` writes them, plus ``performance``, ``events``
    and ``failed``).
    """

    def __init__(self, env_class: type[GridEnv], num_envs: int, **settings: Any):
        self.env_class = env_class
        self.settings = settings
        self.core = env_class.core_class(num_envs=num_envs, **settings)
        observation_space = spaces.Box(0, 1, self.core.observation_shape, dtype=np.uint8)
        self.render_mode = "rgb_array"
        super().__init__(num_envs, observation_space, spaces.Discrete(len(self.core.action_names)))
        card = env_class.card
        self.metrics = EpisodeMetrics(num_envs, self.core.event_names, card.failure_event)
        self._actions = np.zeros(num_envs, dtype=np.int64)
        self._start = time.time()

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        if seed is not None or not hasattr(self, "_np_random"):
            self._np_random, _ = seeding.np_random(seed)
        self._reset_seeds()
        self._reset_options()
        self.core.rng = self._np_random
        self.core.reset(self.core.arange)
        self.metrics = EpisodeMetrics(
            self.num_envs, self.core.event_names, self.env_class.card.failure_event
        )
        return self.core.observe().copy()

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions).reshape(self.num_envs)
        check_actions(actions, self.action_space.n, self.core.action_names, self.env_class.card.id)
        self._actions = actions

    def step_wait(self):
        core = self.core
        tr = core.step(self._actions)
        dones = tr.terminated | tr.truncated
        episodes = self.metrics.add(tr.reward, tr.performance, tr.events, dones)
        infos = [
            {"performance": p, "events": e, "executed_action": a}
            for p, e, a in zip(
                tr.performance.tolist(),
                event_dicts(core.event_names, tr.events),
                tr.executed_action.tolist(),
            )
        ]
        obs = core.observe()
        if episodes:
            ids = np.flatnonzero(dones)
            terminal = obs[ids].copy()
            elapsed = round(time.time() - self._start, 6)
            for k, (i, record) in enumerate(zip(ids.tolist(), episodes)):
                infos[i]["terminal_observation"] = terminal[k]
                infos[i]["TimeLimit.truncated"] = bool(tr.truncated[i])
                infos[i]["episode"] = {**record.to_info(), "t": elapsed}
            core.reset(ids)
            obs = core.observe()
        return obs.copy(), tr.reward.astype(np.float32), dones, infos

    def close(self) -> None:
        """Nothing to release: the batch lives in this process's arrays."""

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [render_rgb(self.core, i) for i in range(self.num_envs)]

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs):
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
