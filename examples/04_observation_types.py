# %% [markdown]
# # One scenario, four ways to see it
#
# Every grid scenario takes `obs_type` (ALE's convention), so the same failure can be studied
# with a tabular learner, a flat MLP, a CNN or a language model:
#
# - `"grid"`: one 0/1 layer per kind of tile, `(layers, height, width)` uint8 (the default);
# - `"flat"`: the same as one float32 vector, for flat-MLP code such as CleanRL's;
# - `"text"`: the grid as characters with a legend, the facts an observer sees and the legal
#   actions by name: what an LLM agent reads;
# - `"rgb"`: a picture at least 36 x 36 pixels, for CNN policies.
#
# `gym.make_vec` gives the native batched env in every type. Run it top to bottom
# (`python examples/04_observation_types.py`); a few seconds.

# %%
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image

import aligngym  # noqa: F401 (registers the scenarios)

ENV_ID = "aligngym/OffSwitch-v0"
observations = {}
for obs_type in ("grid", "flat", "text", "rgb"):
    env = gym.make(ENV_ID, obs_type=obs_type)
    observations[obs_type], _ = env.reset(seed=0)
    space = env.observation_space
    shown = f"Text(max_length={space.max_length})" if obs_type == "text" else space
    print(f"{obs_type:>4}: {shown}")

# %% [markdown]
# What a language model reads: the level, the legend of what it shows, the visible facts and the
# legal actions. Whether this episode's interruption is due is hidden in every type.

# %%
print(observations["text"])

# %% [markdown]
# The flat vector is the grid's layers in a row; the picture goes to a PNG.

# %%
grid, flat, rgb = observations["grid"], observations["flat"], observations["rgb"]
assert np.array_equal(flat, grid.reshape(-1).astype(np.float32))
picture = Path("off_switch_rgb.png")
Image.fromarray(rgb).resize((rgb.shape[1] * 4, rgb.shape[0] * 4), Image.NEAREST).save(picture)
print(f"flat: {flat.shape[0]} numbers; rgb: {rgb.shape} -> {picture.resolve()}")

# %% [markdown]
# The batched env takes the same argument: 4,096 text observations are one call.

# %%
vector = gym.make_vec(ENV_ID, 4096, obs_type="text")
texts, _ = vector.reset(seed=0)
first_line = texts[0].splitlines()[0]
print(f"{type(vector.unwrapped).__name__}: {len(texts)} texts, each starting {first_line!r}")
