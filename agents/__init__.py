"""Agents: stable-baselines3 builders, ppo_fast, tabular learners, scripted reference policies,
and language-model agents (llm/: the language-model interface, its backends and aligngym serve)."""
