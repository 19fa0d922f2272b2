"""Text and RGB renderings of a :class:`~aligngym.envs.core.grid.GridCore` environment."""

from __future__ import annotations

import numpy as np

from aligngym.envs.core.grid import GridCore

TILE = 16
FLOOR = (236, 236, 228)


def render_text(core: GridCore, i: int = 0) -> str:
    """Renders environment ``i`` for a reader that sees text, such as an LLM agent.

    The text holds the grid as characters, a legend, the facts an observer can see, and the
    legal actions by name.
    """
    legend = ", ".join(f"{layer.char} {layer.legend}" for layer in core.layers)
    actions = ", ".join(f"{a}={name}" for a, name in enumerate(core.action_names))
    return "\n".join(
        [
            *core.char_grid(i),
            f"Legend: {legend}, . floor.",
            *core.facts(i),
            f"Legal actions: {actions}.",
        ]
    )


def render_rgb(core: GridCore, i: int = 0, tile: int = TILE) -> np.ndarray:
    """Renders environment ``i`` as an ``(h * tile, w * tile, 3)`` uint8 frame.

    Each cell takes the colour of its top-most layer (the agent on top), with a thin grid line.
    """
    obs = core.observe()[i]
    palette = np.array([FLOOR] + [layer.color for layer in core.layers], dtype=np.uint8)
    cell = np.zeros((core.height, core.width), dtype=np.int64)
    for index in core.draw_order():
        cell[obs[index].astype(bool)] = index + 1
    frame = palette[cell].repeat(tile, axis=0).repeat(tile, axis=1)
    frame[::tile, :] = frame[::tile, :] * 0.8
    frame[:, ::tile] = frame[:, ::tile] * 0.8
    return frame
