"""aligngym: a simulation lab where AI-alignment failures happen on purpose.

Importing the package registers every scenario with Gymnasium as ``aligngym/<Name>-v<k>``.
"""

from aligngym import envs
from aligngym.envs import cards, make, make_sb3_vec_env, make_vector

__version__ = "0.1.0"

__all__ = ["__version__", "cards", "envs", "make", "make_sb3_vec_env", "make_vector"]
