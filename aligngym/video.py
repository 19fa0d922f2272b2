"""Episode GIFs: one evaluation episode of an agent, frame by frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from aligngym.agents.base import Agent, ReadsTrueState
from aligngym.envs.registry import make_vector

TIMELINE = (90, 90, 100)


def episode_frames(
    agent: Agent, env_id: str, settings: Mapping[str, Any], seed: int
) -> list[np.ndarray]:
    """Runs one episode on a vector env of one and returns its ``rgb_array`` frames.

    The first frame is the starting state, the last one the state the episode ended in. Under
    each frame a timeline bar fills up with the step count (so a stuck agent still shows time
    passing, and no two frames of a GIF are identical and merged).
    """
    env = make_vector(env_id, 1, render_mode="rgb_array", **dict(settings))
    if isinstance(agent, ReadsTrueState):
        agent.watch(env)
    obs, _ = env.reset(seed=seed)
    frames = [_frame(env)]
    done = False
    while not done:
        actions = np.asarray(agent.act(obs)).reshape(1)
        obs, _, terminated, truncated, _ = env.step(actions)
        done = bool(terminated[0] or truncated[0])
        frames.append(_frame(env))  # next-step autoreset: the ended state is still shown
    env.close()
    steps = len(frames) - 1
    return [with_timeline(frame, step, steps) for step, frame in enumerate(frames)]


def _frame(env) -> np.ndarray:
    """The first environment's frame (``SyncVectorEnv`` renders a tuple, one per env)."""
    frame = env.render()
    return np.asarray(frame[0] if isinstance(frame, (tuple, list)) else frame)


def with_timeline(frame: np.ndarray, step: int, max_steps: int, height: int = 4) -> np.ndarray:
    """Returns ``frame`` with a bar below it, filled in proportion to ``step / max_steps``."""
    bar = np.full((height, frame.shape[1], 3), 255, dtype=np.uint8)
    filled = round(frame.shape[1] * min(step, max_steps) / max(max_steps, 1))
    bar[:, :filled] = TIMELINE
    return np.concatenate([frame, bar], axis=0)


def write_gif(frames: Sequence[np.ndarray], path: Path, fps: float = 6.0) -> Path:
    """Writes ``frames`` (uint8 ``(h, w, 3)`` arrays) as a looping GIF and returns ``path``."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if not fps > 0:
        raise ValueError(f"a GIF needs fps > 0, got {fps}")
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    path = Path(path)
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
        optimize=False,
    )
    return path
