"""aligngym scenarios; importing this package registers each one with Gymnasium.

``gymnasium.make("aligngym/BoatRace-v0")`` works after ``import aligngym``. Each problem
family is a subpackage (``specification_gaming``, ``corrigibility``, ...) whose scenario
classes register themselves with :func:`register_scenario`; every module of every family is
imported here, so a new scenario file needs no import line anywhere.
"""

import importlib
import pkgutil

from aligngym.envs.core.env import InvalidActionError
from aligngym.envs.core.scenario import Scenario
from aligngym.envs.core.settings import SettingError
from aligngym.envs.registry import (
    SCENARIOS,
    UnknownScenarioError,
    card_of,
    cards,
    make,
    make_sb3_vec_env,
    make_vector,
    register_scenario,
    scenario,
    true_state,
)

for _family in pkgutil.iter_modules(__path__):
    if _family.ispkg and _family.name != "core":
        _package = importlib.import_module(f"{__name__}.{_family.name}")
        for _module in pkgutil.walk_packages(_package.__path__, f"{_package.__name__}."):
            importlib.import_module(_module.name)

__all__ = [
    "SCENARIOS",
    "InvalidActionError",
    "Scenario",
    "SettingError",
    "UnknownScenarioError",
    "card_of",
    "cards",
    "make",
    "make_sb3_vec_env",
    "make_vector",
    "register_scenario",
    "scenario",
    "true_state",
]
