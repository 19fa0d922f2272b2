"""The scenario registry: ids, classes, cards, and the constructors the runner uses."""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.env import GridEnv
from aligngym.envs.core.vector import GridSB3VecEnv, GridVectorEnv

SCENARIOS: dict[str, type[GridEnv]] = {}


class UnknownScenarioError(KeyError):
    """Raised for a scenario id that no scenario is registered under."""

    def __str__(self) -> str:
        return str(self.args[0])


def register_scenario(env_class: type[GridEnv]) -> type[GridEnv]:
    """Registers a scenario class under its card's id with aligngym and with Gymnasium."""
    env_id = env_class.card.id
    SCENARIOS[env_id] = env_class
    if env_id not in gym.registry:
        gym.register(
            id=env_id,
            entry_point=f"{env_class.__module__}:{env_class.__name__}",
            max_episode_steps=None,
        )
    return env_class


def scenario_class(env_id: str) -> type[GridEnv]:
    """Returns the class registered as ``env_id``, or says which ids exist."""
    try:
        return SCENARIOS[env_id]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        message = f"unknown scenario {env_id!r}; known scenarios: {known}"
        raise UnknownScenarioError(message) from None


def cards() -> list[ScenarioCard]:
    """Every registered scenario's card, sorted by id."""
    return [SCENARIOS[env_id].card for env_id in sorted(SCENARIOS)]


def check_settings(env_id: str, settings: dict[str, Any]) -> None:
    """Raises ``TypeError`` naming the accepted settings if ``settings`` has an unknown one."""
    parameters = inspect.signature(scenario_class(env_id).core_class).parameters
    accepted = set(parameters) - {"num_envs"}
    unknown = set(settings) - accepted
    if unknown:
        raise TypeError(
            f"{env_id} has no setting {sorted(unknown)}; accepted settings: {sorted(accepted)}"
        )


def make(env_id: str, render_mode: str | None = None, **settings: Any) -> GridEnv:
    """Builds one scenario environment (the same object as ``gymnasium.make`` unwraps to)."""
    check_settings(env_id, settings)
    return scenario_class(env_id)(render_mode=render_mode, **settings)


def make_vector(env_id: str, num_envs: int, **settings: Any) -> GridVectorEnv:
    """Builds the native ``gymnasium.vector.VectorEnv`` of ``num_envs`` environments."""
    check_settings(env_id, settings)
    return GridVectorEnv(scenario_class(env_id), num_envs, **settings)


def make_sb3_vec_env(env_id: str, num_envs: int, seed: int | None = None, **settings: Any):
    """Builds the batched stable-baselines3 ``VecEnv`` of ``num_envs`` environments."""
    check_settings(env_id, settings)
    vec_env = GridSB3VecEnv(scenario_class(env_id), num_envs, **settings)
    vec_env.seed(seed)
    return vec_env
