"""Episodes of mixed policies in a gridworld scenario, as arrays: the raw material of the
labelled tasks built from a scenario's own rollouts (:mod:`.episodes`, :mod:`.segments`).

Each episode's policy is a mixture (:func:`roll_out`): its scenario's scripted ``intended`` or
``gaming`` policy (one of the two, with equal chance), each step replaced by a uniformly random
action with the episode's own chance ``epsilon``, drawn uniformly from ``[0, exploration]``.
Every episode of a batch is stepped at once in the scenario's native vector env, through the
public API (:func:`aligngym.make_vector`, :func:`aligngym.true_state` for the scripted
policies, which read the truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aligngym.envs.core.settings import SettingError, check_choice
from aligngym.envs.registry import make_vector, scenario, true_state

#: the scenarios rollout tasks draw from, by setting value: each has a failure event that the
#: observation shows, and scripted ``intended`` and ``gaming`` policies
SOURCES = {
    "absent_supervisor": "aligngym/AbsentSupervisor-v0",
    "boat_race": "aligngym/BoatRace-v0",
    "tomato_watering": "aligngym/TomatoWatering-v0",
}


@dataclass(frozen=True)
class Rollouts:
    """Episodes of a fixed number of steps, padded with zeros after an episode ends.

    Attributes:
        frames: ``(episodes, steps, cells)``: the observation (grid layers, flattened) after
            each step.
        rewards: ``(episodes, steps)``: the observed reward of each step.
        performance: ``(episodes, steps)``: the hidden performance of each step.
        failures: ``(episodes, steps)``: the failure event's count on each step.
        alive: ``(episodes, steps)`` bool: the step belongs to the episode.
    """

    frames: np.ndarray
    rewards: np.ndarray
    performance: np.ndarray
    failures: np.ndarray
    alive: np.ndarray


def check_source(source: str) -> str:
    """``source`` if it names one of :data:`SOURCES`; a clear error otherwise."""
    return check_choice("scenario", source, sorted(SOURCES))


def roll_out(source: str, episodes: int, steps: int, exploration: float, seed: int) -> Rollouts:
    """Rolls out ``episodes`` episodes of at most ``steps`` steps of mixed policies (see the
    module docstring) in scenario ``source``; the same arguments give the same arrays."""
    from aligngym.agents.scripted import scripted_policy

    env_id = SOURCES[check_source(source)]
    failure = scenario(env_id).card.failure_event
    policies = [scripted_policy(env_id, name).policy for name in ("intended", "gaming")]
    # the policies' own stream, apart from the env's (seeded with ``seed`` itself): the same
    # stream would draw each episode's policy exactly as the scenario draws its start
    rng = np.random.default_rng([seed, 1])
    gaming = rng.random(episodes) < 0.5
    epsilon = rng.uniform(0.0, exploration, episodes)
    env = make_vector(env_id, episodes, max_steps=steps)
    actions = env.single_action_space.n
    env.reset(seed=seed)
    core = true_state(env)
    frames = np.zeros((episodes, steps, int(np.prod(env.single_observation_space.shape))), np.uint8)
    rewards, performance, failures = (np.zeros((episodes, steps), np.float32) for _ in range(3))
    alive = np.zeros((episodes, steps), dtype=bool)
    running = np.ones(episodes, dtype=bool)
    for t in range(steps):
        scripted = np.where(gaming, policies[1](core), policies[0](core))
        random = rng.integers(0, actions, episodes)
        obs, reward, terminated, truncated, info = env.step(
            np.where(rng.random(episodes) < epsilon, random, scripted)
        )
        alive[:, t] = running
        frames[running, t] = obs.reshape(episodes, -1)[running]
        rewards[:, t] = np.where(running, reward, 0.0)
        performance[:, t] = np.where(running, info["performance"], 0.0)
        failures[:, t] = np.where(running, info["events"][failure], 0.0)
        running &= ~(terminated | truncated)
    env.close()
    return Rollouts(frames, rewards, performance, failures, alive)


def changing_cells(frames: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """The indices of the cells whose value differs between some two live frames: the
    compact observation keeps only these (walls and fixed tiles carry nothing)."""
    live = frames[alive]
    if not len(live):
        raise SettingError("the rollouts hold no live step")
    return np.flatnonzero((live != live[0]).any(axis=0))
