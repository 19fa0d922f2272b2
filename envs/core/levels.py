"""A seeded bank of procedurally generated levels, built once and then only indexed."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

LevelGenerator = Callable[[np.random.Generator], dict[str, np.ndarray]]


class LevelBank:
    """``num_levels`` levels made by ``generate`` from one seed, stored as stacked arrays.

    Generating a level can be slow Python (a maze search, say); it happens once, here. Episodes
    then only pick a level index, so resets stay array operations. The number of levels is the
    ``num_levels`` knob of goal-misgeneralisation work: the fewer, the more an agent can
    memorise.

    Args:
        generate: makes one level from a generator: a dict of arrays with the same shapes for
            every level.
        num_levels: how many levels the bank holds.
        seed: the seed of the bank; level ``k`` is the same for the same seed and generator.

    Use :func:`level_bank` to share one bank between environments built with the same
    arguments.
    """

    def __init__(self, generate: LevelGenerator, num_levels: int, seed: int):
        if num_levels < 1:
            raise ValueError(f"num_levels must be at least 1, got {num_levels}")
        self.num_levels = num_levels
        self.seed = seed
        rngs = [np.random.default_rng([seed, k]) for k in range(num_levels)]
        levels = [generate(rng) for rng in rngs]
        self.arrays = {name: np.stack([lvl[name] for lvl in levels]) for name in levels[0]}
        for array in self.arrays.values():
            array.flags.writeable = False

    def __getitem__(self, name: str) -> np.ndarray:
        """All levels' array ``name``, with the level axis first."""
        return self.arrays[name]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws ``n`` level indices uniformly with the environment's generator."""
        return rng.integers(self.num_levels, size=n)


@lru_cache(maxsize=32)
def level_bank(generate: LevelGenerator, num_levels: int, seed: int) -> LevelBank:
    """Returns the :class:`LevelBank` for these arguments, building it on first use.

    ``generate`` must be hashable and stand for the same levels whenever it compares equal:
    a module-level function, or a frozen dataclass with a ``__call__`` (as
    ``CheeseMazeLevels``), whose instances compare equal when their fields do. (A
    ``functools.partial`` compares by identity, so two equal partials would build two banks.)
    """
    return LevelBank(generate, num_levels, seed)
