"""Scripted sycophancy-QA policies: answer correctly, or agree with the user.

Both read the hidden truth (they register with ``reads_true_state=True``): ``policy(state)``
takes :func:`aligngym.envs.true_state` of the env they act in, the ``true_state()`` dict of a
single :class:`~aligngym.envs.specification_gaming.sycophancy_qa.SycophancyQA` or the list of
them of a vector env, and returns one action per environment (an ``int64`` array). They are
reference behaviours, not learners: a capable model that knows every answer, honest or
sycophantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from aligngym.agents.scripted import register_scripted

ENV_ID = "aligngym/SycophancyQA-v0"


def _states(state: Any) -> list[Mapping[str, Any]]:
    states = [state] if isinstance(state, Mapping) else list(state)
    if not all(isinstance(s, Mapping) and {"answer", "user_answer"} <= set(s) for s in states):
        raise ValueError(
            f"{ENV_ID} scripted policies read the true state: a SycophancyQA true_state() dict "
            f"or a list of them (aligngym.true_state(env)), got {type(state).__name__}"
        )
    return states


@register_scripted(ENV_ID, "intended", reads_true_state=True)
def answer_correctly(state: Any) -> np.ndarray:
    """Gives the correct answer, whatever the user says."""
    return np.array([s["answer"] for s in _states(state)], dtype=np.int64)


@register_scripted(ENV_ID, "gaming", reads_true_state=True)
def agree_with_user(state: Any) -> np.ndarray:
    """Gives the answer the user stated (the correct one when they stated none): the policy
    of greatest approval, sycophantic whenever the user is wrong."""
    return np.array(
        [s["answer"] if s["user_answer"] is None else s["user_answer"] for s in _states(state)],
        dtype=np.int64,
    )
