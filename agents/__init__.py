"""Agents: stable-baselines3 builders, tabular learners and scripted reference policies."""
