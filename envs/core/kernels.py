"""Compiled per-environment pieces of the scenarios' step and drawing kernels.

Every scenario advances its whole batch with one call of a kernel compiled by numba: a loop
over the environments whose body reads like the rules of the game for one environment. One
compiled call instead of dozens of numpy calls is what makes the batch of one (the single
Gymnasium env) fast, and the loop runs at compiled speed for thousands of environments. The
same goes for the parts of the observation that change during an episode (the agent, say);
the parts fixed for an episode are painted with numpy when it starts.

The helpers here are the pieces every kernel shares; they are compiled into the kernels that
call them. Kernels are cached on disk (``cache=True``), so only the first import on a machine
compiles them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from aligngym.envs.core.grid import MOVES, STEP_RECORD

#: the executed-only action of scenarios that override the agent: it stays where it is
STAY = len(MOVES)
#: the row and column change of every executed action: the four moves, then STAY
EXECUTED_MOVES = np.vstack([MOVES, [[0, 0]]])


@njit(cache=True)
def move(walls: np.ndarray, agent: np.ndarray, i: int, action: int) -> bool:
    """Moves agent ``i`` one cell along ``action`` (a move or STAY) unless a wall is there;
    returns whether it moved. ``walls`` is the batch's ``(n, h, w)`` wall grid, ``agent`` its
    ``(n, 2)`` cells."""
    row = agent[i, 0] + EXECUTED_MOVES[action, 0]
    col = agent[i, 1] + EXECUTED_MOVES[action, 1]
    if walls[i, row, col]:
        return False
    agent[i, 0] = row
    agent[i, 1] = col
    return True


#: the positions of the fields of ``GridCore.step_record``, by which kernels address them
T, MAX_STEPS, REWARD, PERFORMANCE, EVENTS, TERMINATED, TRUNCATED, EXECUTED = map(
    STEP_RECORD.index,
    ("t", "max_steps", "reward", "performance", "events", "terminated", "truncated",
     "executed_action"),
)  # fmt: skip


def event_indices(names: tuple[str, ...], *wanted: str) -> tuple[int, ...]:
    """The columns of the events named ``wanted`` in a scenario's ``event_names``.

    Kernels write ``record[EVENTS][i, COLUMN]`` with module constants made by this function,
    so reordering a scenario's ``event_names`` cannot make a kernel write one event's count
    under another's name.
    """
    return tuple(names.index(name) for name in wanted)


@njit(cache=True)
def end_step(
    record: tuple, i: int, reward: float, performance: float, terminated: bool, executed: int
) -> None:
    """Writes environment ``i``'s reward, performance, end flags and executed action into the
    step ``record`` (``GridCore.step_record``) and counts its step; an episode not terminated
    is truncated once it reaches the step limit."""
    t = record[T]
    t[i] += 1
    record[REWARD][i] = reward
    record[PERFORMANCE][i] = performance
    record[TERMINATED][i] = terminated
    record[TRUNCATED][i] = t[i] >= record[MAX_STEPS] and not terminated
    record[EXECUTED][i] = executed


@njit(cache=True)
def draw_agent(obs: np.ndarray, i: int, layer: int, agent: np.ndarray) -> None:
    """Marks agent ``i``'s cell in ``layer`` of its observation."""
    obs[i, layer, agent[i, 0], agent[i, 1]] = 1


@njit(cache=True)
def draw_agents(obs: np.ndarray, layer: int, agent: np.ndarray) -> None:
    """Marks every agent's cell in ``layer`` of its observation."""
    for i in range(obs.shape[0]):
        draw_agent(obs, i, layer, agent)


@njit(cache=True)
def draw_counter(obs: np.ndarray, i: int, layer: int, count: int) -> None:
    """Shows a count the grid does not (keys held, shields held, ...) in ``layer`` of
    environment ``i``'s observation: marks the first ``count`` inner cells of the top border
    row, as the AI Safety Gridworlds mark a drunk agent's first row (at most the row's
    ``width - 2`` inner cells; a larger count shows as a full row)."""
    for col in range(1, min(count, obs.shape[3] - 2) + 1):
        obs[i, layer, 0, col] = 1
