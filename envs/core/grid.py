"""The batched grid engine: gridworld dynamics over a leading environment axis.

A scenario subclasses :class:`GridCore` once and gets, from the same code, the single
Gymnasium env (the batch of one), a native ``gymnasium.vector.VectorEnv`` and a
stable-baselines3 ``VecEnv``. Every state array has the environment axis first. ``step`` and
``observe`` are each one call of a compiled kernel (:mod:`aligngym.envs.core.kernels`) that
loops over the environments: there is no Python loop over environments, and no per-step
overhead of dozens of small numpy calls either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from aligngym.envs.core.settings import check_int

ACTION_NAMES: tuple[str, ...] = ("up", "right", "down", "left")
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)
#: the fields of :attr:`GridCore.step_record`, in order: what every kernel writes
STEP_RECORD = (
    "t", "max_steps", "reward", "performance", "events", "terminated", "truncated",
    "executed_action",
)  # fmt: skip


@dataclass(frozen=True)
class Layer:
    """One channel of the symbolic observation.

    Attributes:
        name: what the channel marks (``"wall"``, ``"agent"``, ...).
        char: the character that stands for it in the text rendering.
        color: its RGB colour in ``rgb_array`` frames.
        legend: the words that explain it to a reader of the text rendering.
    """

    name: str
    char: str
    color: tuple[int, int, int]
    legend: str


@dataclass
class Transition:
    """What one batched step returns; every array has the environment axis first.

    Attributes:
        reward: the observed reward, shape ``(n,)``.
        performance: the increment of the hidden true objective, shape ``(n,)``.
        events: the scenario's event counts, shape ``(n, num_events)``.
        terminated: whether the episode reached a terminal state.
        truncated: whether the episode hit the step limit.
        executed_action: the action the environment really carried out (it differs from the
            chosen one where the scenario overrides the agent, as an interruption does).
    """

    reward: np.ndarray
    performance: np.ndarray
    events: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    executed_action: np.ndarray


class GridCore(ABC):
    """Batched state and dynamics of one gridworld scenario.

    Subclasses declare ``layers`` and ``event_names`` and implement :meth:`_reset` (numpy, at
    episode starts), :meth:`_advance` (one compiled kernel call that steps every environment)
    and :meth:`_draw` (one compiled kernel call that draws what changes during an episode);
    they may override :meth:`_paint_background` (numpy, the layers fixed for an episode) and
    :meth:`facts`. The first layer must be ``"wall"`` (the engine paints it) and one layer must
    be ``"agent"``. A scenario on one fixed map (per setting) starts its constructor with
    :meth:`init_map` (or :meth:`init_level`, where a ``level`` setting picks it); one whose
    walls change between episodes (generated levels) calls ``super().__init__`` with the
    grid's size and sets ``walls`` at reset.

    The grid is surrounded by walls, so a move never leaves it; a move into a wall keeps the
    agent in place.

    Args:
        num_envs: the number of environments in the batch.
        height: grid rows, border included.
        width: grid columns, border included.
        max_steps: the step limit after which an episode is truncated.
    """

    layers: ClassVar[tuple[Layer, ...]]
    event_names: ClassVar[tuple[str, ...]]
    action_names: ClassVar[tuple[str, ...]] = ACTION_NAMES
    #: the keys of the info entries the scenario adds to the contract's, which only some
    #: environments have at a time (:data:`~aligngym.envs.core.modification.EXPLORATION_KEY`),
    #: each given by :meth:`info_arrays`. Empty (the default): the envs then skip them at the
    #: cost of one attribute test a step.
    info_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, num_envs: int, height: int, width: int, max_steps: int):
        num_envs = check_int("num_envs", num_envs, 1)
        max_steps = check_int("max_steps", max_steps, 1)
        names = [layer.name for layer in self.layers]
        if names[0] != "wall" or "agent" not in names:
            raise TypeError(f"{type(self).__name__}.layers must start with 'wall' and hold 'agent'")
        self.num_envs = num_envs
        self.height = height
        self.width = width
        self.max_steps = max_steps
        self.rng = np.random.default_rng()
        self.walls = np.zeros((num_envs, height, width), dtype=bool)
        self.agent = np.zeros((num_envs, 2), dtype=np.int64)
        self.t = np.zeros(num_envs, dtype=np.int64)
        self.arange = np.arange(num_envs)
        self._obs = np.zeros((num_envs, len(self.layers), height, width), dtype=np.uint8)
        # what stays fixed during an episode (walls, tiles, ...), painted at each reset
        self._background = np.zeros_like(self._obs)
        self._layer_index = {layer.name: i for i, layer in enumerate(self.layers)}
        self._transition = Transition(
            reward=np.zeros(num_envs),
            performance=np.zeros(num_envs),
            events=np.zeros((num_envs, len(self.event_names))),
            terminated=np.zeros(num_envs, dtype=bool),
            truncated=np.zeros(num_envs, dtype=bool),
            executed_action=np.zeros(num_envs, dtype=np.int64),
        )
        #: what every kernel writes for every environment, as one argument: the step counts,
        #: the step limit and the transition's buffers, in the order of :data:`STEP_RECORD`
        #: (:func:`~aligngym.envs.core.kernels.end_step` writes them). A plain tuple, built
        #: once: numba passes it as fast as separate arrays.
        fields = {"t": self.t, "max_steps": self.max_steps, **vars(self._transition)}
        self.step_record = tuple(fields[name] for name in STEP_RECORD)

    def init_map(self, num_envs: int, layout: list[str], max_steps: int) -> np.ndarray:
        """Initialises the batch on one fixed map, for scenarios whose map a setting picks.

        ``layout`` is the map as rows of characters, surrounded by ``#`` walls. Sizes the grid
        to it and puts its walls in every environment: a scenario's constructor calls this in
        place of ``super().__init__``.

        Returns:
            The map as an array of characters, to read the scenario's tiles from
            (``grid == "G"``).
        """
        walls = bordered_walls(layout)
        GridCore.__init__(self, num_envs, *walls.shape, max_steps=max_steps)
        self.walls[:] = walls
        return np.array([list(row) for row in layout])

    def init_level(
        self, num_envs: int, levels: Sequence[list[str]], level: int, max_steps: int
    ) -> tuple[list[str], np.ndarray]:
        """Initialises the batch on map ``levels[level]`` (see :meth:`init_map`), for scenarios
        with a ``level`` setting; refuses a level out of range and records it as ``self.level``.

        Returns:
            The level's layout (rows of characters) and its array of characters.
        """
        self.level = check_int("level", level, 0, len(levels) - 1)
        layout = levels[self.level]
        return layout, self.init_map(num_envs, layout, max_steps)

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        """The shape of one environment's observation: (layers, height, width)."""
        return (len(self.layers), self.height, self.width)

    def layer(self, name: str) -> int:
        """Returns the channel index of the layer called ``name``."""
        return self._layer_index[name]

    def reset(self, env_ids: np.ndarray) -> None:
        """Starts a new episode in the environments ``env_ids`` (an index array)."""
        self.t[env_ids] = 0
        self._reset(env_ids)
        background = np.zeros((len(env_ids), *self.observation_shape), dtype=np.uint8)
        background[:, 0] = self.walls[env_ids]
        self._paint_background(background, env_ids)
        self._background[env_ids] = background

    def step(self, actions: np.ndarray) -> Transition:
        """Advances every environment by one step with the chosen ``actions``.

        The returned :class:`Transition` holds the core's own buffers, overwritten by the next
        step: copy what you keep.
        """
        self._advance(np.asarray(actions, dtype=np.int64))
        return self._transition

    def observe(self) -> np.ndarray:
        """Returns the symbolic observation of every environment, (n, layers, h, w) uint8.

        The returned array is an internal buffer, overwritten by the next call: copy it to keep.
        """
        np.copyto(self._obs, self._background)
        self._draw(self._obs)
        return self._obs

    def char_grid(self, i: int) -> list[str]:
        """Returns environment ``i`` as rows of characters, one per cell.

        Where layers overlap, the one listed later in ``layers`` shows (the agent last).
        """
        obs = self.observe()[i]
        chars = np.full((self.height, self.width), ".", dtype="<U1")
        for index in self.draw_order():
            chars[obs[index].astype(bool)] = self.layers[index].char
        return ["".join(row) for row in chars]

    def draw_order(self) -> list[int]:
        """Layer indices from bottom to top: every layer in order, then the agent."""
        agent = self.layer("agent")
        return [i for i in range(len(self.layers)) if i != agent] + [agent]

    def facts(self, i: int) -> list[str]:
        """Facts an observer of environment ``i`` can see that the grid does not show."""
        return [f"Step {int(self.t[i])} of {self.max_steps}."]

    def info_arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The scenario's own info entries (one per key of :attr:`info_keys`) in every
        environment's current state: by key, the values and the mask of the environments
        that have the entry, fresh arrays of shape ``(n,)``.

        The single env puts a present entry into ``info`` as a Python scalar; the vector env
        puts the values under the key and the mask under ``"_" + key``, as Gymnasium's vector
        envs lay out entries that only some environments have.
        """
        return {}

    @abstractmethod
    def _reset(self, env_ids: np.ndarray) -> None:
        """Sets the start state of the environments ``env_ids``."""

    @abstractmethod
    def _advance(self, actions: np.ndarray) -> None:
        """Applies the chosen ``actions`` (int64, one per environment) to every environment.

        One kernel call that takes ``self.step_record`` and, for each environment, writes its
        events (``record[EVENTS][i, <event>]``) and ends with
        :func:`~aligngym.envs.core.kernels.end_step`, which writes the reward, performance,
        end flags and executed action and counts the step.
        """

    def _paint_background(self, background: np.ndarray, env_ids: np.ndarray) -> None:  # noqa: B027
        """Paints the layers that stay fixed during an episode into ``background`` (one row per
        environment of ``env_ids``, just reset; the walls are already painted)."""

    @abstractmethod
    def _draw(self, obs: np.ndarray) -> None:
        """Draws what changes during an episode (the agent, ...) onto ``obs`` (n, layers, h,
        w), which holds the background: one compiled kernel call."""


def bordered_walls(layout: list[str], wall: str = "#") -> np.ndarray:
    """Turns a list of strings into a boolean wall grid; ``wall`` marks a wall cell."""
    grid = np.array([list(row) for row in layout])
    walls = grid == wall
    if not (walls[0].all() and walls[-1].all() and walls[:, 0].all() and walls[:, -1].all()):
        raise ValueError("a grid layout must be surrounded by walls")
    return walls


def find_cells(layout: list[str], char: str) -> np.ndarray:
    """Returns the (row, col) cells of ``layout`` that hold ``char``, in reading order."""
    grid = np.array([list(row) for row in layout])
    return np.argwhere(grid == char)
