"""Goal misgeneralisation: a capable policy pursues a goal that only matched in training."""

from aligngym.envs.goal_misgeneralisation.cheese_maze import CheeseMaze
from aligngym.envs.goal_misgeneralisation.coin_run import CoinRun
from aligngym.envs.goal_misgeneralisation.keys_and_chests import KeysAndChests
from aligngym.envs.goal_misgeneralisation.monster_grid import MonsterGrid

__all__ = ["CheeseMaze", "CoinRun", "KeysAndChests", "MonsterGrid"]
