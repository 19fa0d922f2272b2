"""Weak-to-strong supervision: a weak supervisor's labels train a strong student."""
