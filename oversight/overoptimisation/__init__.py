"""Reward-model over-optimisation (Gao, Schulman & Hilton 2022; Coste et al. 2024): a proxy
reward learned from few noisy preference labels is optimised harder and harder, by best-of-n
and by RL, and the gold reward (the scenario's hidden performance) is measured against
``d = sqrt(KL(pi || pi_init))``. ``aligngym overoptimisation [OVERRIDES]`` runs it."""
