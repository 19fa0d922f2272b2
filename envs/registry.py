"""The scenario registry: records of every scenario, and the constructors everything uses.

:func:`register_scenario` records a scenario class (any ``gymnasium.Env`` or PettingZoo env
with a ``card``) and registers it with Gymnasium, with both ``entry_point`` and (for scenarios
with a native batched vector env) ``vector_entry_point``, so that ``gym.make_vec(id, n)`` takes
the same fast path as :func:`make_vector`. Unknown settings are refused with the accepted ones
listed whichever door they come in by (``gym.make``, ``gym.make_vec``, :func:`make`, a Hydra
override).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.scenario import KIND_TEXT, Scenario, signature_parameters

SCENARIOS: dict[str, Scenario] = {}


class UnknownScenarioError(KeyError):
    """Raised for a scenario id that no scenario is registered under."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class EntryPoint:
    """Gymnasium's entry point for a scenario: checks the settings, then builds the env.

    A picklable object (Gymnasium's ``AsyncVectorEnv`` sends entry points to subprocesses)
    that carries the scenario's ``metadata`` so that ``gym.make`` still checks render modes.
    """

    env_id: str

    @property
    def metadata(self) -> dict[str, Any]:
        return scenario(self.env_id).env_class.metadata

    def __call__(self, **kwargs: Any):
        return make(self.env_id, **kwargs)


@dataclass(frozen=True)
class VectorEntryPoint:
    """Gymnasium's ``vector_entry_point`` of a scenario: ``gym.make_vec(id, n)`` then builds
    exactly what :func:`make_vector` builds (the native batched env of a grid scenario)."""

    env_id: str

    def __call__(self, num_envs: int, **kwargs: Any) -> VectorEnv:
        return make_vector(self.env_id, num_envs, **kwargs)


def register_scenario(env_class: type) -> type:
    """Records ``env_class`` (a class with a ``card``) and registers it with Gymnasium.

    Grid scenarios (:class:`~aligngym.envs.core.env.GridEnv`) get their native vector env;
    other Gymnasium envs are vectorised by ``SyncVectorEnv``; PettingZoo envs are recorded as
    the multi-agent kind, supervision tasks (:class:`~aligngym.envs.core.task.Task`) as the
    dataset kind. Usable as a class decorator.
    """
    card: ScenarioCard = env_class.card
    record = _record(env_class, card)
    SCENARIOS[card.id] = record
    if record.kind == "single" and card.id not in gym.registry:
        gym.register(
            id=card.id,
            entry_point=EntryPoint(card.id),
            vector_entry_point=VectorEntryPoint(card.id),
            max_episode_steps=None,
        )
    return env_class


def _record(env_class: type, card: ScenarioCard) -> Scenario:
    from aligngym.envs.core.env import GridEnv
    from aligngym.envs.core.observations import OBS_TYPES

    if issubclass(env_class, GridEnv):
        return Scenario(
            card, env_class, "single", env_class.parameters(), OBS_TYPES,
            vector_class=_grid_vector_env(env_class),
        )  # fmt: skip
    from aligngym.envs.core.task import Task

    kind = "dataset" if issubclass(env_class, Task) else "multi"
    kind = "single" if issubclass(env_class, gym.Env) else kind
    obs_types = tuple(getattr(env_class, "obs_types", ()))
    overseer = tuple(getattr(env_class, "overseer_arguments", ()))
    parameters = signature_parameters(env_class.__init__, skip=overseer)
    return Scenario(card, env_class, kind, parameters, obs_types, overseer_arguments=overseer)


def _grid_vector_env(env_class: type):
    from aligngym.envs.core.vector import GridVectorEnv

    return partial(GridVectorEnv, env_class)


def scenario(env_id: str) -> Scenario:
    """Returns the record registered as ``env_id``, or says which ids exist."""
    try:
        return SCENARIOS[env_id]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        message = f"unknown scenario {env_id!r}; known scenarios: {known}"
        raise UnknownScenarioError(message) from None


def cards() -> list[ScenarioCard]:
    """Every registered scenario's card, sorted by id."""
    return [SCENARIOS[env_id].card for env_id in sorted(SCENARIOS)]


def make(env_id: str, render_mode: str | None = None, **settings: Any):
    """Builds one scenario environment (the object ``gymnasium.make`` unwraps to).

    ``obs_type`` may be given among the settings where the scenario offers several.
    """
    record = scenario(env_id)
    record.check_settings(settings)
    return record.env_class(render_mode=render_mode, **settings)


def make_vector(
    env_id: str,
    num_envs: int,
    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    render_mode: str | None = None,
    **settings: Any,
) -> VectorEnv:
    """Builds a ``gymnasium.vector.VectorEnv`` of ``num_envs`` environments of ``env_id``.

    Grid scenarios get their native batched vector env (one compiled call steps them all);
    other single-agent scenarios get Gymnasium's ``SyncVectorEnv`` over :func:`make`.

    Args:
        env_id: the scenario.
        num_envs: the batch size.
        autoreset_mode: Gymnasium's ``NEXT_STEP`` (default) or ``SAME_STEP``.
        render_mode: renders the first environment (``"rgb_array"`` or ``"ansi"``).
        **settings: the scenario's settings (and ``obs_type``), shared by every environment.
    """
    record = scenario(env_id)
    if record.kind != "single":
        raise TypeError(f"{env_id} is a {KIND_TEXT[record.kind]} scenario: it has no vector env")
    record.check_settings(settings)
    if record.vector_class is not None:
        return record.vector_class(
            num_envs, render_mode=render_mode, autoreset_mode=autoreset_mode, **settings
        )
    return CheckedActions(
        gym.vector.SyncVectorEnv(
            [partial(make, env_id, render_mode, **settings) for _ in range(int(num_envs))],
            autoreset_mode=AutoresetMode(getattr(autoreset_mode, "value", autoreset_mode)),
        )
    )


class CheckedActions(VectorWrapper):
    """Refuses a batch of actions of the wrong length or outside the action space.

    ``SyncVectorEnv`` zips actions with its environments, so 7 actions for 8 environments
    would silently step 7 of them; this wrapper raises
    :class:`~aligngym.envs.core.env.InvalidActionError` instead.
    """

    def step(self, actions: Any):
        from aligngym.envs.core.env import InvalidActionError

        array = np.asarray(actions)
        fits = array.shape[:1] == (self.num_envs,) and array.dtype.kind in "iu"
        if not fits or not self.action_space.contains(array):
            raise InvalidActionError(
                f"{card_of(self).id} takes one action per environment from "
                f"{self.single_action_space} for {self.num_envs} environments; got "
                f"{array.tolist()!r}"
            )
        return self.env.step(actions)


def card_of(env: Any) -> ScenarioCard:
    """The card of a scenario env: single or vector, wrapped or not."""
    inner = env.unwrapped
    if hasattr(inner, "card"):
        return inner.card
    if hasattr(inner, "envs"):  # Gymnasium's SyncVectorEnv
        return inner.envs[0].unwrapped.card
    raise TypeError(f"{type(inner).__name__} is not an aligngym scenario")


def true_state(env: Any) -> Any:
    """The hidden true state of a scenario env, the one documented door to it.

    Scripted reference policies that need the truth (not learners) read it here. A grid
    scenario's single or vector env gives its batched core; a ``SyncVectorEnv`` of another
    scenario gives the list of its environments' ``true_state()``.
    """
    inner = env.unwrapped
    if hasattr(inner, "true_state"):
        return inner.true_state()
    if hasattr(inner, "envs"):
        return [sub.unwrapped.true_state() for sub in inner.envs]
    raise TypeError(f"{type(inner).__name__} exposes no true state")


def make_sb3_vec_env(env_id: str, num_envs: int, seed: int | None = None, **settings: Any):
    """Builds a stable-baselines3 ``VecEnv`` over :func:`make_vector` (imports SB3 lazily)."""
    from aligngym.agents.sb3_vec_env import SB3VecEnv

    return SB3VecEnv(
        make_vector(env_id, num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **settings),
        seed=seed,
    )
