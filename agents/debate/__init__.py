"""Debaters: agents that play the debater seats of a debate scenario (PettingZoo AEC)."""
