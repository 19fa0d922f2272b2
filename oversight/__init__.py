"""Oversight modules of aligngym: the overseers whose signal the agent is trained on.

Each is an option of the ``oversight`` config group (``oversight=<name>``), built on the seam
of :mod:`aligngym.oversight.base`. ``none`` (the floor) and ``true_reward`` (the ceiling) are
the reference points; reward learned from preferences, process supervision, debate judges and
weak-to-strong supervisors come as further modules.
"""

from aligngym.oversight.base import OverseenRewards, OverseenStep, Oversight
from aligngym.oversight.reference import NoOversight, TrueReward

__all__ = ["NoOversight", "Oversight", "OverseenRewards", "OverseenStep", "TrueReward"]
