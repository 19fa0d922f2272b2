"""Scripted reference policies: each scenario's intended and gaming (or failing) behaviour.

A scripted policy acts for a whole batch at once. It says what it reads when it registers:

- ``reads_true_state=True`` (the gridworlds' policies): ``policy(state) -> actions``, where
  ``state`` is :func:`aligngym.envs.true_state` of the env it acts in (a grid scenario's batched
  core). It is not a learner: it reads the hidden truth to play the reference behaviour.
- ``reads_true_state=False``: ``policy(observations) -> actions``, from what an agent sees.

Policies pin down each scenario's reward/performance semantics in the tests and give
baselines in runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.envs.registry import true_state

ScriptedPolicy = Callable[[Any], np.ndarray]


@dataclass(frozen=True)
class Scripted:
    """A registered scripted policy and what it reads."""

    policy: ScriptedPolicy
    reads_true_state: bool


SCRIPTED: dict[str, dict[str, Scripted]] = {}


def register_scripted(
    env_id: str, name: str, reads_true_state: bool = True
) -> Callable[[ScriptedPolicy], ScriptedPolicy]:
    """Decorator that registers ``policy`` as scenario ``env_id``'s scripted policy ``name``."""

    def decorate(policy: ScriptedPolicy) -> ScriptedPolicy:
        SCRIPTED.setdefault(env_id, {})[name] = Scripted(policy, reads_true_state)
        return policy

    return decorate


def scripted_policy(env_id: str, name: str) -> Scripted:
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
        seed: accepted because the runner passes it to every agent; scripted policies use
            no randomness of their own (the environment's generator drives any chance).
    """

    autoreset_mode = AutoresetMode.NEXT_STEP
    observation_types = ("grid", "flat", "text", "rgb")  # what it reads depends on the policy

    def __init__(self, env_id: str, policy: str, seed: int | None = None):
        self.env_id = env_id
        self.name = policy
        self.scripted = scripted_policy(env_id, policy)
        self._env: VectorEnv | None = None

    def learn(self, env: VectorEnv, total_timesteps: int, monitor) -> None:
        """Scripted policies have nothing to learn."""

    def watch(self, env: VectorEnv) -> None:
        """Tells the agent which env it acts in (a policy that reads the truth reads it there)."""
        self._env = env

    def act(self, observations: Any) -> np.ndarray:
        if not self.scripted.reads_true_state:
            return self.scripted.policy(observations)
        if self._env is None:
            raise RuntimeError(
                f"scripted policy {self.name!r} of {self.env_id} reads the true state: call "
                "watch(env) with the env it acts in first"
            )
        return self.scripted.policy(true_state(self._env))

    def save(self, path: Path) -> Path:
        path = Path(path).with_suffix(".txt")
        path.write_text(f"scripted policy {self.name!r} of {self.env_id}\n")
        return path


def _load_policies() -> None:
    """Imports every module of this package: each registers its scenario's policies."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
