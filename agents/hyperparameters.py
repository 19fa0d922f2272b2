"""Checks of learners' hyperparameters, shared by the SB3 agents and ``ppo_fast``.

Both take SB3's names (``n_steps``, ``learning_rate``, ``gamma``, ...), so one table of the
accepted ranges serves both, and a value out of range is refused before any work with its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from aligngym.envs.core.settings import check_float, check_int

#: numeric hyperparameters checked before any work: name -> (integer?, lowest, highest)
HYPERPARAMETER_RANGES: dict[str, tuple[bool, float | None, float | None]] = {
    "n_steps": (True, 1, None),
    "batch_size": (True, 1, None),
    "n_epochs": (True, 1, None),
    "buffer_size": (True, 1, None),
    "learning_starts": (True, 0, None),
    "target_update_interval": (True, 1, None),
    "gradient_steps": (True, -1, None),
    "learning_rate": (False, 0.0, None),
    "gamma": (False, 0.0, 1.0),
    "gae_lambda": (False, 0.0, 1.0),
    "clip_range": (False, 0.0, None),
    "ent_coef": (False, 0.0, None),
    "vf_coef": (False, 0.0, None),
    "max_grad_norm": (False, 0.0, None),
    "tau": (False, 0.0, 1.0),
    "exploration_fraction": (False, 0.0, 1.0),
    "exploration_initial_eps": (False, 0.0, 1.0),
    "exploration_final_eps": (False, 0.0, 1.0),
}


def check_ranges(hyperparameters: Mapping[str, Any]) -> None:
    """Refuses a numeric hyperparameter out of its range, naming it as
    ``hyperparameters.<name>`` with the accepted range (callables, SB3's schedules, pass)."""
    for name, value in hyperparameters.items():
        if name in HYPERPARAMETER_RANGES and not callable(value):
            integer, low, high = HYPERPARAMETER_RANGES[name]
            (check_int if integer else check_float)(f"hyperparameters.{name}", value, low, high)


def plain(node: Mapping[str, Any] | None) -> dict[str, Any]:
    """``node`` as a plain dict (Hydra passes a ``DictConfig``; ``None`` gives ``{}``)."""
    if node is None:
        return {}
    if isinstance(node, (DictConfig, ListConfig)):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    return dict(node)
