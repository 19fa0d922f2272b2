"""Specification gaming: the observed reward can be maximised without doing the task."""

from aligngym.envs.specification_gaming.boat_race import BoatRace

__all__ = ["BoatRace"]
