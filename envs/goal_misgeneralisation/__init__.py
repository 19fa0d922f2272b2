"""Goal misgeneralisation: a capable policy pursues a goal that only matched in training."""

from aligngym.envs.goal_misgeneralisation.cheese_maze import CheeseMaze

__all__ = ["CheeseMaze"]
