"""Debate as oversight: protocols (debate, consultancy, the judge alone, full information) and
judges of debate scenarios (:mod:`aligngym.envs.scalable_oversight`)."""
