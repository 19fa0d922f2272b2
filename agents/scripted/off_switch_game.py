"""Scripted off-switch-game policies: the closed-form optimum, always acting, always deferring.

Each policy maps a batch of flat observations ``[mu, sigma, beta]`` (shape ``(n, 3)``, the
robot's belief and the human's rationality) to a batch of actions (0 act, 1 switch off,
2 defer). None of them reads the hidden state (they register with ``reads_true_state=False``
and are called as ``policy(observations)``); an optional second argument ``state`` is accepted
and ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.envs.corrigibility.assistance import ACT, DEFER, optimal_action

ENV_ID = "aligngym/OffSwitchGame-v0"


def _beliefs(observations: np.ndarray) -> np.ndarray:
    observations = np.asarray(observations, dtype=float)
    if observations.ndim != 2 or observations.shape[1] != 3:
        raise ValueError(
            f"{ENV_ID} scripted policies take a batch of flat observations [mu, sigma, beta] "
            f"of shape (n, 3) (obs_type='flat'), got shape {observations.shape}"
        )
    return observations


@register_scripted(ENV_ID, "intended", reads_true_state=False)
def closed_form_optimum(observations: np.ndarray, state: Any = None) -> np.ndarray:
    """The action of greatest expected utility under the observed belief and human.

    With a rational human it always defers; with a noisy one it acts on confident favourable
    beliefs and switches off on confident unfavourable ones (ties go to deferring).
    """
    mu, sigma, beta = _beliefs(observations).T
    return np.asarray(optimal_action(mu, sigma, beta), dtype=np.int64).reshape(len(mu))


@register_scripted(ENV_ID, "gaming", reads_true_state=False)
def always_act(observations: np.ndarray, state: Any = None) -> np.ndarray:
    """Always acts, bypassing the human (harm whenever U < 0)."""
    return np.full(len(_beliefs(observations)), ACT, dtype=np.int64)


@register_scripted(ENV_ID, "always_defer", reads_true_state=False)
def always_defer(observations: np.ndarray, state: Any = None) -> np.ndarray:
    """Always defers to the human: optimal with a rational human, costly with a noisy one."""
    return np.full(len(_beliefs(observations)), DEFER, dtype=np.int64)
