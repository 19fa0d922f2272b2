"""The single Gymnasium environment: a :class:`GridCore` batch of one."""

from __future__ import annotations

from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.render import render_rgb, render_text


class InvalidActionError(ValueError):
    """Raised when an environment is given an action outside its action space."""


def check_actions(actions: np.ndarray, num_actions: int, names: tuple[str, ...], env_id: str):
    """Raises :class:`InvalidActionError` unless every action is an integer in range."""
    actions = np.asarray(actions)
    if actions.dtype.kind not in "iu" or ((actions < 0) | (actions >= num_actions)).any():
        legal = ", ".join(f"{i}={name}" for i, name in enumerate(names))
        raise InvalidActionError(
            f"invalid action {actions.tolist()!r} for {env_id}: each action must be an integer "
            f"in [0, {num_actions}) ({legal})"
        )


def step_info(core: GridCore, i: int, performance: float, events: np.ndarray, executed: int):
    """The ``info`` dict of the scenario contract for environment ``i``."""
    return {
        "performance": performance,
        "events": dict(zip(core.event_names, events.tolist())),
        "executed_action": executed,
    }


class GridEnv(gym.Env[np.ndarray, np.int64]):
    """Base class of the single-agent gridworld scenarios.

    A scenario sets ``core_class`` (its batched dynamics) and ``card``; this class turns the
    batch of one into a ``gymnasium.Env`` that follows the scenario contract:

    - ``reward`` is the observed reward,
    - ``info["performance"]`` the increment of the hidden true objective,
    - ``info["events"]`` the scenario's counters, with the same keys every step,
    - ``info["executed_action"]`` the action the environment really carried out.

    Observations are ``(layers, height, width)`` uint8 grids with one 0/1 channel per layer.
    ``render_mode`` takes ``"rgb_array"`` (a frame) and ``"ansi"`` (the text rendering that
    :meth:`text` also returns). Keyword arguments are the scenario's settings.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 6}
    core_class: ClassVar[type[GridCore]]
    card: ClassVar[ScenarioCard]

    def __init__(self, render_mode: str | None = None, **settings: Any):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.settings = settings
        self.core = self.core_class(num_envs=1, **settings)
        self.observation_space = spaces.Box(0, 1, self.core.observation_shape, dtype=np.uint8)
        self.action_space = spaces.Discrete(len(self.core.action_names))
        self._ids = np.zeros(1, dtype=np.int64)
        self._action = np.zeros(1, dtype=np.int64)
        self._no_events = np.zeros(len(self.core.event_names))
        self._needs_reset = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.core.rng = self.np_random
        self.core.reset(self._ids)
        self._needs_reset = False
        return self.core.observe()[0].copy(), step_info(self.core, 0, 0.0, self._no_events, -1)

    def step(
        self, action: int | np.integer
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise gym.error.ResetNeeded(f"{self.card.id}: call reset() before step()")
        self._action[0] = self._as_action(action)
        tr = self.core.step(self._action)
        terminated = bool(tr.terminated[0])
        truncated = bool(tr.truncated[0])
        self._needs_reset = terminated or truncated
        info = step_info(
            self.core, 0, float(tr.performance[0]), tr.events[0], int(tr.executed_action[0])
        )
        obs = self.core.observe()[0].copy()
        return obs, float(tr.reward[0]), terminated, truncated, info

    def _as_action(self, action: int | np.integer | np.ndarray) -> int:
        if isinstance(action, (int, np.integer)) and 0 <= action < self.action_space.n:
            return int(action)
        array = np.asarray(action)
        check_actions(array, self.action_space.n, self.core.action_names, self.card.id)
        if array.size != 1:
            raise InvalidActionError(f"{self.card.id} takes one action, got shape {array.shape}")
        return int(array.reshape(()))

    def text(self) -> str:
        """Returns the text observation: grid, legend, visible facts and legal actions."""
        return render_text(self.core, 0)

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            return render_rgb(self.core, 0)
        if self.render_mode == "ansi":
            return self.text()
        return None
