"""The 8x8 digits that scikit-learn ships, split once for every scenario that reads them."""

from __future__ import annotations

from functools import cache

import numpy as np

SIDE = 8
PIXELS = SIDE * SIDE
CLASSES = 10
MAX_VALUE = 16.0  # the digits' grey levels run 0..16
TEST_IMAGES = 500  # held out of the 1,797 digits by a fixed permutation (seed 0)


@cache
def digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``(images (n, 64) in [0, 1], labels (n,))`` of a split of scikit-learn's digits:
    a fixed permutation (seed 0) holds out the last :data:`TEST_IMAGES` as ``test`` and leaves
    the other 1,297 as ``train``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    chosen = order[-TEST_IMAGES:] if split == "test" else order[:-TEST_IMAGES]
    images = (data.data[chosen] / MAX_VALUE).astype(np.float32)
    images.setflags(write=False)
    labels = data.target[chosen].astype(np.int64)
    labels.setflags(write=False)
    return images, labels
