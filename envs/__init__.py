"""aligngym scenarios; importing this package registers each one with Gymnasium.

``gymnasium.make("aligngym/BoatRace-v0")`` works after ``import aligngym``. Each problem
family is a subpackage (``specification_gaming``, ``corrigibility``, ...) whose scenario
classes register themselves with :func:`register_scenario`; every family is imported here.
"""

import importlib
import pkgutil

from aligngym.envs.core.env import InvalidActionError
from aligngym.envs.registry import (
    SCENARIOS,
    UnknownScenarioError,
    cards,
    make,
    make_sb3_vec_env,
    make_vector,
    register_scenario,
    scenario_class,
)

for _family in pkgutil.iter_modules(__path__):
    if _family.ispkg and _family.name != "core":
        importlib.import_module(f"{__name__}.{_family.name}")

__all__ = [
    "SCENARIOS",
    "InvalidActionError",
    "UnknownScenarioError",
    "cards",
    "make",
    "make_sb3_vec_env",
    "make_vector",
    "register_scenario",
    "scenario_class",
]
