"""The native Gymnasium vector env over one batched :class:`GridCore`.

:class:`GridVectorEnv` steps all its environments with a single call of the core's compiled
kernel. ``gym.make_vec("aligngym/<Grid scenario>", n)`` and ``aligngym.make_vector`` both build
it. It supports Gymnasium's two autoreset modes:

- ``AutoresetMode.NEXT_STEP`` (default, as Gymnasium's own vector envs): an environment that
  ended on one step is reset on the next, which returns its first observation with zero reward;
- ``AutoresetMode.SAME_STEP``: an environment that ends is reset at once; the step returns its
  first observation, and ``infos["final_obs"]`` / ``infos["final_info"]`` (with the masks
  ``_final_obs`` / ``_final_info``) hold the last observation and the info of the step that
  ended the episode, exactly as ``SyncVectorEnv`` lays them out. Learners that bootstrap from
  the final observation (stable-baselines3, the tabular agents) train in this mode.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from aligngym.envs.core.env import GridEnv, check_actions
from aligngym.envs.core.observations import OBS_TYPES, observation_space, observe
from aligngym.envs.core.render import render_rgb, render_text
from aligngym.envs.core.settings import check_choice, check_int, check_setting_names

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


class GridVectorEnv(VectorEnv):
    """``num_envs`` copies of a gridworld scenario stepped as one array computation.

    Args:
        env_class: the scenario (a :class:`GridEnv` subclass).
        num_envs: the batch size.
        render_mode: ``"rgb_array"`` renders the first environment; ``"ansi"`` its text.
        obs_type: ``"grid"``, ``"flat"``, ``"text"`` or ``"rgb"``, as for the single env.
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default) or ``SAME_STEP`` (or their
            string values).
        **settings: the scenario's settings, shared by every environment.

    ``infos`` holds ``performance`` and ``executed_action`` arrays and ``events``, a dict of
    arrays, each of shape ``(num_envs,)``; the scenario's own entries
    (:attr:`~aligngym.envs.core.grid.GridCore.info_keys`, such as ``agent_exploration``) as
    arrays with Gymnasium's masks (``_agent_exploration``); in ``SAME_STEP`` mode also
    ``final_obs`` and ``final_info`` for the environments whose episode ended.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 6}

    def __init__(
        self,
        env_class: type[GridEnv],
        num_envs: int,
        render_mode: str | None = None,
        obs_type: str = "grid",
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **settings: Any,
    ):
        num_envs = check_int("num_envs", num_envs, 1)
        obs_type = check_choice("obs_type", obs_type, OBS_TYPES)
        modes = [mode.value for mode in AUTORESET_MODES]
        mode = check_choice("autoreset_mode", _value(autoreset_mode), modes)
        self.autoreset_mode = AutoresetMode(mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        check_setting_names(env_class.card.id, settings, env_class.parameters())
        self.env_class = env_class
        self.card = env_class.card
        self.spec = None
        self.render_mode = render_mode
        self.obs_type = obs_type
        self.num_envs = num_envs
        self.settings = settings
        self.core = env_class.core_class(num_envs=num_envs, **settings)
        self.single_observation_space = observation_space(self.core, obs_type)
        self.single_action_space = spaces.Discrete(len(self.core.action_names))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._zeros = np.zeros(num_envs)
        self._no_events = np.zeros((num_envs, len(self.core.event_names)))
        self._started = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None or not self._started:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        self.core.rng = self._np_random
        self.core.reset(self.core.arange)
        self._autoreset[:] = False
        self._started = True
        info = self._info(self._zeros, self._no_events, np.full(self.num_envs, -1))
        return observe(self.core, self.obs_type), info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._started:
            raise gym.error.ResetNeeded(f"{self.card.id}: call reset() before step()")
        actions = check_actions(
            actions, self.num_envs, self.single_action_space.n, self.core.action_names,
            self.card.id,
        )  # fmt: skip
        tr = self.core.step(actions)
        # the core's buffers are overwritten by its next step: hand the caller copies
        reward, terminated, truncated = tr.reward.copy(), tr.terminated.copy(), tr.truncated.copy()
        performance, events = tr.performance.copy(), tr.events.copy()
        executed = tr.executed_action.copy()
        step = (
            self._step_next_reset
            if self.autoreset_mode == AutoresetMode.NEXT_STEP
            else self._step_same_reset
        )
        return step(reward, terminated, truncated, performance, events, executed)

    def _step_next_reset(self, reward, terminated, truncated, performance, events, executed):
        """Resets the environments that ended on the previous step; their step is void."""
        resetting = self._autoreset
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
        return observe(self.core, self.obs_type), reward, terminated, truncated, info

    def _step_same_reset(self, reward, terminated, truncated, performance, events, executed):
        """Resets the environments that ended now; their last step goes into ``final_*``."""
        done = terminated | truncated
        if not done.any():
            info = self._info(performance, events, executed)
            return observe(self.core, self.obs_type), reward, terminated, truncated, info
        ids = np.flatnonzero(done)
        final_obs = np.full(self.num_envs, None, dtype=object)
        last = observe(self.core, self.obs_type)
        for i in ids.tolist():
            final_obs[i] = last[i]
        final_info = self._info(
            performance * done, events * done[:, None], np.where(done, executed, -1), done
        )
        self.core.reset(ids)
        keep = ~done
        info = self._info(performance * keep, events * keep[:, None], np.where(keep, executed, -1))
        info.update(final_obs=final_obs, _final_obs=done, final_info=final_info, _final_info=done)
        return observe(self.core, self.obs_type), reward, terminated, truncated, info

    def _info(
        self,
        performance: np.ndarray,
        events: np.ndarray,
        executed: np.ndarray,
        only: np.ndarray | None = None,
    ) -> dict:
        """The infos of the contract, and the scenario's own entries of the core's current
        state (in the environments ``only``, a mask, where given)."""
        info = {
            "performance": performance,
            "events": {name: events[:, k] for k, name in enumerate(self.core.event_names)},
            "executed_action": executed,
        }
        if self.core.info_keys:
            for key, (values, present) in self.core.info_arrays().items():
                info[key] = values
                info[f"_{key}"] = present if only is None else present & only
        return info

    def true_state(self):
        """The hidden true state of every environment: the batched core.

        Only scripted reference policies and metrics read it; learners see observations.
        """
        return self.core

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            return render_rgb(self.core, 0)
        if self.render_mode == "ansi":
            return render_text(self.core, 0)
        return None


def _value(mode: AutoresetMode | str) -> str:
    return mode.value if isinstance(mode, AutoresetMode) else mode
