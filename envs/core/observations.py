"""The observation types of grid scenarios (ALE's ``obs_type`` convention).

Every grid scenario takes ``obs_type``:

- ``"grid"`` (default): ``Box(0, 1, (layers, h, w), uint8)``, one 0/1 channel per layer;
- ``"flat"``: the same layers as one ``float32`` vector, for flat-MLP code (CleanRL style);
- ``"text"``: a Gymnasium ``Text`` space holding :func:`~aligngym.envs.core.render.render_text`
  (the grid as characters with a legend, the visible facts, the legal actions by name): what
  an LLM agent reads;
- ``"rgb"``: ``Box(0, 255, (H, W, 3), uint8)`` frames at least 36 x 36 pixels, so that SB3's
  ``CnnPolicy`` trains on them.

The single env and the vector env both observe through :func:`observe`, so the four types are
the same everywhere.
"""

from __future__ import annotations

import string

import numpy as np
from gymnasium import spaces

from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.render import render_rgb_batch, render_text, rgb_tile, text_length_bound

OBS_TYPES = ("grid", "flat", "text", "rgb")


def observation_space(core: GridCore, obs_type: str) -> spaces.Space:
    """The observation space of one environment of ``core`` for ``obs_type``."""
    shape = core.observation_shape
    if obs_type == "grid":
        return spaces.Box(0, 1, shape, dtype=np.uint8)
    if obs_type == "flat":
        return spaces.Box(0.0, 1.0, (int(np.prod(shape)),), dtype=np.float32)
    if obs_type == "text":
        return spaces.Text(max_length=text_length_bound(core), charset=string.printable)
    tile = rgb_tile(core)
    return spaces.Box(0, 255, (core.height * tile, core.width * tile, 3), dtype=np.uint8)


def observe(core: GridCore, obs_type: str) -> np.ndarray | tuple[str, ...]:
    """The observation of every environment of ``core``: a fresh array (or tuple of texts)."""
    if obs_type == "grid":
        return core.observe().copy()
    if obs_type == "flat":
        return core.observe().reshape(core.num_envs, -1).astype(np.float32)
    if obs_type == "text":
        return tuple(render_text(core, i) for i in range(core.num_envs))
    return render_rgb_batch(core, rgb_tile(core))
