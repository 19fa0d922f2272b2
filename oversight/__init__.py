"""Oversight modules of aligngym.

Reward learned from preferences, process supervision, debate judges and weak-to-strong
supervisors plug into the runner as the ``oversight`` config group.
"""
