"""aligngym: a simulation lab where AI-alignment failures happen on purpose.

Importing the package registers every scenario with Gymnasium as ``aligngym/<Name>-v<k>``. It
needs only gymnasium, numpy and numba: torch, stable-baselines3, wandb and pandas load where
they are used.
"""

from aligngym import envs
from aligngym.envs import card_of, cards, make, make_sb3_vec_env, make_vector, scenario, true_state

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "card_of",
    "cards",
    "envs",
    "make",
    "make_sb3_vec_env",
    "make_vector",
    "scenario",
    "true_state",
]
