"""Hydra configuration groups of aligngym, shipped as package data."""
