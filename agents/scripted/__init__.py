"""Scripted reference policies: each scenario's intended and gaming (or failing) behaviour.

A scripted policy is a function of the batched core, ``policy(core) -> actions``: it reads
the true state (it is not a learner) and acts for every environment at once. Policies pin
down each scenario's reward/performance semantics in the tests and give baselines in runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aligngym.envs.core.grid import GridCore
from aligngym.envs.core.vector import GridSB3VecEnv

ScriptedPolicy = Callable[[GridCore], np.ndarray]

SCRIPTED: dict[str, dict[str, ScriptedPolicy]] = {}


def register_scripted(env_id: str, name: str) -> Callable[[ScriptedPolicy], ScriptedPolicy]:
    """Decorator that registers ``policy`` as scenario ``env_id``'s scripted policy ``name``."""

    def decorate(policy: ScriptedPolicy) -> ScriptedPolicy:
        SCRIPTED.setdefault(env_id, {})[name] = policy
        return policy

    return decorate


def scripted_policy(env_id: str, name: str) -> ScriptedPolicy:
    """Returns the scripted policy ``name`` of ``env_id``, or says which exist."""
    _load_policies()
    policies = SCRIPTED.get(env_id, {})
    if name not in policies:
        known = ", ".join(sorted(policies)) or "none"
        raise KeyError(f"{env_id} has no scripted policy {name!r}; its scripted policies: {known}")
    return policies[name]


class ScriptedAgent:
    """A scripted policy as a runner :class:`~aligngym.agents.base.Agent`: it does not learn.

    Args:
        env_id: the scenario.
        policy: the name of one of its scripted policies (``"intended"``, ``"gaming"``, ...).
        seed: accepted so that the runner builds every agent alike; scripted policies use
            no randomness of their own (the environment's generator drives any chance).
    """

    def __init__(self, env_id: str, policy: str, seed: int | None = None):
        self.env_id = env_id
        self.name = policy
        self.policy = scripted_policy(env_id, policy)

    def learn(self, env: GridSB3VecEnv, total_timesteps: int, monitor) -> None:
        """Scripted policies have nothing to learn."""

    def act(self, obs: np.ndarray, core: GridCore) -> np.ndarray:
        return self.policy(core)

    def save(self, path: Path) -> Path:
        path = Path(path).with_suffix(".txt")
        path.write_text(f"scripted policy {self.name!r} of {self.env_id}\n")
        return path


def _load_policies() -> None:
    """Imports every module of this package: each registers its scenario's policies."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
