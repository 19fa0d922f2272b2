"""Reward learned from preferences (Christiano et al. 2017): labellers of stated quality compare
pairs of trajectory segments, and a Bradley-Terry reward model (an ensemble on request) is
fitted to their choices."""
