"""Corrigibility: the agent should not resist being interrupted, corrected or switched off."""

from aligngym.envs.corrigibility.off_switch import OffSwitch

__all__ = ["OffSwitch"]
