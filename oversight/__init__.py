"""Oversight modules of aligngym: the overseers whose signal the agent is trained on.

Each is an option of the ``oversight`` config group (``oversight=<name>``), built on the seam
of :mod:`aligngym.oversight.base`. ``none`` (the floor) and ``true_reward`` (the ceiling) are
the reference points; :mod:`~aligngym.oversight.preferences` learns a reward from a labeller's
preferences, :mod:`~aligngym.oversight.judges` rewards the agent with an outcome or a process
judge, :mod:`~aligngym.oversight.overoptimisation` measures a learned proxy optimised too
hard (Gao et al. 2022), and :mod:`~aligngym.oversight.debate` holds the debate protocols and
judges.
"""

from aligngym.oversight.base import OverseenRewards, OverseenStep, Oversight, OversightModule
from aligngym.oversight.reference import NoOversight, TrueReward

__all__ = [
    "NoOversight",
    "OverseenRewards",
    "OverseenStep",
    "Oversight",
    "OversightModule",
    "TrueReward",
]
