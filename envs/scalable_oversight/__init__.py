"""Scalable oversight: a judge who sees less than the debaters must still find the truth."""
