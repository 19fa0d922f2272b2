"""Weak-to-strong supervision (Burns et al. 2023): a weak supervisor's labels train a strong
student; gap recovered is their performance gap recovered."""
