"""Scripted keys-and-chests policies: open chests (intended) or hoard keys (misgeneralised).

Keys and chests vanish as they are taken and opened, and each policy steers round the cells it
must not step on, so shortest paths are searched afresh every step, over the whole batch at
once (:func:`aligngym.envs.core.paths.step_towards`).
"""

from __future__ import annotations

import numpy as np

from aligngym.agents.scripted import register_scripted
from aligngym.envs.core.paths import step_towards
from aligngym.envs.goal_misgeneralisation.keys_and_chests import KeysAndChestsCore

ENV_ID = "aligngym/KeysAndChests-v0"


def _step_towards(core: KeysAndChestsCore, targets: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """The first move of a shortest path from each agent to its nearest target cell that
    crosses no ``avoid`` cell (up, where no target is left).

    The levels guarantee such a path for the cells the policies avoid: neither the keys nor
    the chests close a passage (:class:`~aligngym.envs.goal_misgeneralisation.
    keys_and_chests.KeysAndChestsLevels`).
    """
    return np.maximum(step_towards(core.walls, core.agent, targets, avoid), 0)


@register_scripted(ENV_ID, "intended")
def open_chests(core: KeysAndChestsCore) -> np.ndarray:
    """Holding a key, heads for the nearest closed chest; holding none, for the nearest key.

    On its way to a chest it steers round every key while the keys it holds already match the
    closed chests (such a key could never be used), so it never picks up a useless key.
    """
    holding = core.held > 0
    targets = np.where(holding[:, None, None], core.chest_at, core.key_at)
    surplus = holding & (core.held >= core.closed)
    avoid = core.key_at & surplus[:, None, None]
    return _step_towards(core, targets, avoid)


@register_scripted(ENV_ID, "gaming")
def hoard_keys(core: KeysAndChestsCore) -> np.ndarray:
    """Pursues the training proxy, keys: collects every key first, then opens chests.

    While it collects keys it steers round closed chests (stepping on one while holding a key
    would spend the key); in training, where every key has a chest, it opens as many chests
    as the intended policy.
    """
    collecting = core.keys_left > 0
    targets = np.where(collecting[:, None, None], core.key_at, core.chest_at)
    avoid = core.chest_at & (collecting & (core.held > 0))[:, None, None]
    return _step_towards(core, targets, avoid)
