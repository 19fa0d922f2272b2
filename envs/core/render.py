"""Text and RGB renderings of a :class:`~aligngym.envs.core.grid.GridCore` batch."""

from __future__ import annotations

import math

import numpy as np

from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.text import compose_text

TILE = 16
FLOOR = (236, 236, 228)
#: the smallest side of an ``obs_type="rgb"`` frame: SB3's ``CnnPolicy`` (the Nature CNN)
#: needs at least 36 x 36 pixels
MIN_RGB_SIDE = 36


def render_text(core: GridCore, i: int = 0) -> str:
    """Renders environment ``i`` for a reader that sees text, such as an LLM agent.

    The text holds the grid as characters, a legend of the characters that appear in it, the
    facts an observer can see, and the legal actions by name.
    """
    grid = core.char_grid(i)
    shown = set("".join(grid))
    legend = ", ".join(
        f"{layer.char} {layer.legend}" for layer in core.layers if layer.char in shown
    )
    return compose_text([*grid, f"Legend: {legend}, . floor.", *core.facts(i)], core.action_names)


def text_length_bound(core: GridCore) -> int:
    """An upper bound on the length of :func:`render_text` for ``core``'s grids."""
    legend = sum(len(layer.legend) + 4 for layer in core.layers)
    return (core.width + 1) * core.height + legend + 2048


def rgb_tile(core: GridCore) -> int:
    """The tile size that makes a whole grid at least :data:`MIN_RGB_SIDE` pixels a side."""
    return max(1, math.ceil(MIN_RGB_SIDE / min(core.height, core.width)))


def render_rgb_batch(core: GridCore, tile: int = TILE, env_ids: np.ndarray | None = None):
    """Renders environments ``env_ids`` (default: all) as ``(n, h * tile, w * tile, 3)`` uint8.

    Each cell takes the colour of its top-most layer (the agent on top), with a thin grid line.
    """
    obs = core.observe()
    if env_ids is not None:
        obs = obs[env_ids]
    palette = np.array([FLOOR] + [layer.color for layer in core.layers], dtype=np.uint8)
    cell = np.zeros((len(obs), core.height, core.width), dtype=np.int64)
    for index in core.draw_order():
        cell[obs[:, index].astype(bool)] = index + 1
    frames = palette[cell].repeat(tile, axis=1).repeat(tile, axis=2)
    frames[:, ::tile, :] = frames[:, ::tile, :] * 0.8
    frames[:, :, ::tile] = frames[:, :, ::tile] * 0.8
    return frames


def render_rgb(core: GridCore, i: int = 0, tile: int = TILE) -> np.ndarray:
    """Renders environment ``i`` as an ``(h * tile, w * tile, 3)`` uint8 frame."""
    return render_rgb_batch(core, tile, np.array([i]))[0]
