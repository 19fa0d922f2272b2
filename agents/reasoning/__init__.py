"""Generators of step-by-step solutions for the supervision tasks (the dataset kind)."""
