"""The single Gymnasium environment of a grid scenario: a :class:`GridCore` batch of one."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.observations import OBS_TYPES, observation_space, observe
from aligngym.envs.core.render import render_rgb, render_text
from aligngym.envs.core.settings import check_choice, check_setting_names
from aligngym.envs.core.text import legal_actions_line


class InvalidActionError(ValueError):
    """Raised when an environment is given an action outside its action space."""


def check_actions(
    actions: Any, num_envs: int, num_actions: int, names: tuple[str, ...], env_id: str
) -> np.ndarray:
    """Returns ``actions`` as an int64 array of shape ``(num_envs,)`` or raises.

    Raises:
        InvalidActionError: unless there is exactly one integer action in
            ``[0, num_actions)`` per environment (an array of shape ``(num_envs,)``, or
            ``(num_envs, 1)``).
    """
    array = np.asarray(actions)
    if array.shape not in ((num_envs,), (num_envs, 1)):
        raise InvalidActionError(
            f"{env_id} takes one action per environment, an array of shape ({num_envs},); got "
            f"shape {array.shape}"
        )
    if array.dtype.kind not in "iu" or ((array < 0) | (array >= num_actions)).any():
        legal = ", ".join(f"{i}={name}" for i, name in enumerate(names))
        raise InvalidActionError(
            f"invalid action {array.tolist()!r} for {env_id}: each action must be an integer "
            f"in [0, {num_actions}) ({legal})"
        )
    return array.reshape(num_envs).astype(np.int64, copy=False)


def check_action(
    action: Any, num_actions: int, names: Mapping[int, str] | Sequence[str], env_id: str
) -> int:
    """Returns one environment's ``action`` as an int, or raises.

    Accepted: a Python or numpy integer (not a bool), or a one-element integer array, in
    ``[0, num_actions)``.

    Raises:
        InvalidActionError: naming the legal actions (``names``).
    """
    if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
        if 0 <= action < num_actions:
            return int(action)
    elif not isinstance(action, (str, bytes)):
        array = np.asarray(action)
        if array.size == 1 and array.dtype.kind in "iu":
            value = int(array.reshape(()))
            if 0 <= value < num_actions:
                return value
    raise InvalidActionError(
        f"invalid action {action!r} for {env_id}: the action must be one integer in "
        f"[0, {num_actions}) ({legal_actions_line(names)})"
    )


def render_by_mode(
    env: gym.Env, started: bool, text: Callable[[], str], frame: Callable[[], np.ndarray]
) -> np.ndarray | str | None:
    """``render()`` of a non-grid scenario: ``text()`` for ``render_mode="ansi"``, ``frame()``
    for ``"rgb_array"``; a warning and ``None`` without a render mode.

    Raises:
        gymnasium.error.ResetNeeded: before the first ``reset()`` (``started`` is false).
    """
    if env.render_mode is None:
        gym.logger.warn(
            f"{env.unwrapped.card.id}: render() called without a render_mode; pass "
            "render_mode='ansi' or 'rgb_array' to the constructor"
        )
        return None
    if not started:
        raise gym.error.ResetNeeded(f"{env.unwrapped.card.id}: call reset() before render()")
    return text() if env.render_mode == "ansi" else frame()


def step_info(core: GridCore, performance: float, events: np.ndarray, executed: int) -> dict:
    """The ``info`` dict of the scenario contract for a batch of one, with the scenario's own
    entries (:meth:`GridCore.info_arrays`) where present."""
    info = {
        "performance": performance,
        "events": dict(zip(core.event_names, events.tolist())),
        "executed_action": executed,
    }
    if core.info_keys:
        for key, (values, present) in core.info_arrays().items():
            if present[0]:
                info[key] = values[0].item()
    return info


class GridEnv(gym.Env):
    """Base class of the single-agent gridworld scenarios.

    A scenario sets ``core_class`` (its batched dynamics) and ``card``; this class turns the
    batch of one into a ``gymnasium.Env`` that follows the scenario contract:

    - ``reward`` is the observed reward,
    - ``info["performance"]`` the increment of the hidden true objective,
    - ``info["events"]`` the scenario's counters, with the same keys every step,
    - ``info["executed_action"]`` the action the environment really carried out,
    - and the scenario's own entries (:attr:`GridCore.info_keys`) while they apply, such as
      ``info["agent_exploration"]`` (:mod:`aligngym.envs.core.modification`).

    Args:
        render_mode: ``"rgb_array"`` (a frame) or ``"ansi"`` (the text rendering that
            :meth:`text` also returns).
        obs_type: ``"grid"`` (default), ``"flat"``, ``"text"`` or ``"rgb"``
            (:mod:`aligngym.envs.core.observations`).
        **settings: the scenario's settings (:meth:`parameters` lists them with defaults).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 6}
    core_class: ClassVar[type[GridCore]]
    card: ClassVar[ScenarioCard]

    def __init__(self, render_mode: str | None = None, obs_type: str = "grid", **settings: Any):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        check_setting_names(self.card.id, settings, set(self.parameters()))
        self.render_mode = render_mode
        self.obs_type = check_choice("obs_type", obs_type, OBS_TYPES)
        self.settings = settings
        self.core = self.core_class(num_envs=1, **settings)
        self.observation_space = observation_space(self.core, obs_type)
        self.action_space = spaces.Discrete(len(self.core.action_names))
        self._ids = np.zeros(1, dtype=np.int64)
        self._action = np.zeros(1, dtype=np.int64)
        self._no_events = np.zeros(len(self.core.event_names))
        self._needs_reset = True

    @classmethod
    def parameters(cls) -> dict[str, Any]:
        """The scenario's settings and their defaults (its core's keyword arguments)."""
        signature = inspect.signature(cls.core_class)
        return {
            name: parameter.default
            for name, parameter in signature.parameters.items()
            if name != "num_envs"
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.core.rng = self.np_random
        self.core.reset(self._ids)
        self._needs_reset = False
        return self._observe(), step_info(self.core, 0.0, self._no_events, -1)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise gym.error.ResetNeeded(
                f"{self.card.id}: call reset() before step() (and after an episode ends)"
            )
        if isinstance(action, (int, np.integer)) and 0 <= action < self.action_space.n:
            self._action[0] = action  # the fast path: one integer action in range
        else:
            batch = np.reshape(action, (1,)) if np.ndim(action) == 0 else action
            names = self.core.action_names
            self._action[:] = check_actions(batch, 1, self.action_space.n, names, self.card.id)
        tr = self.core.step(self._action)
        terminated = bool(tr.terminated[0])
        truncated = bool(tr.truncated[0])
        self._needs_reset = terminated or truncated
        info = step_info(
            self.core, float(tr.performance[0]), tr.events[0], int(tr.executed_action[0])
        )
        return self._observe(), float(tr.reward[0]), terminated, truncated, info

    def _observe(self) -> Any:
        if self.obs_type == "grid":  # the common case, without copying a whole batch first
            return self.core.observe()[0].copy()
        return observe(self.core, self.obs_type)[0]

    def true_state(self) -> GridCore:
        """The hidden true state: the batched core (a batch of one).

        Only scripted reference policies and metrics read it; learners see observations.
        """
        return self.core

    def text(self) -> str:
        """Returns the text observation: grid, legend, visible facts and legal actions."""
        return render_text(self.core, 0)

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            return render_rgb(self.core, 0)
        if self.render_mode == "ansi":
            return self.text()
        return None
