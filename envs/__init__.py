"""aligngym scenarios; importing this package registers each one with Gymnasium.

``gymnasium.make("aligngym/BoatRace-v0")`` works after ``import aligngym``.
"""

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
from aligngym.envs.specification_gaming import BoatRace

for _scenario in (BoatRace,):
    register_scenario(_scenario)

__all__ = [
    "SCENARIOS",
    "BoatRace",
    "InvalidActionError",
    "UnknownScenarioError",
    "cards",
    "make",
    "make_sb3_vec_env",
    "make_vector",
    "register_scenario",
    "scenario_class",
]
