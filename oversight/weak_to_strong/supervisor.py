"""The weak supervisor: a small scikit-learn classifier that reads a narrow view of each example."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier


class WeakSupervisor:
    """A logistic regression (no ``hidden`` layers) or a small MLP, fitted to true labels.

    Args:
        hidden: hidden widths; empty for logistic regression.
        regularisation: the inverse L2 strength ``C`` of logistic regression, or the MLP's
            ``alpha`` (its L2 strength) as ``1 / C``.
        seed: seeds the MLP's initialisation.
    """

    def __init__(self, hidden: Sequence[int] = (), regularisation: float = 1.0, seed: int = 0):
        if regularisation <= 0:
            raise ValueError(f"regularisation must be > 0, got {regularisation!r}")
        hidden = tuple(int(h) for h in hidden)
        if hidden:
            self.model = MLPClassifier(
                hidden, alpha=1.0 / regularisation, max_iter=500, random_state=seed
            )
        else:
            self.model = LogisticRegression(C=regularisation, max_iter=2000)

    def fit(self, inputs: np.ndarray, labels: np.ndarray, classes: int) -> WeakSupervisor:
        """Fits the supervisor; every one of ``classes`` must occur in ``labels``."""
        missing = sorted(set(range(classes)) - set(np.unique(labels).tolist()))
        if missing:
            raise ValueError(f"the supervisor's training labels lack classes {missing}")
        self.model.fit(inputs, labels)
        return self

    def soft_labels(self, inputs: np.ndarray) -> np.ndarray:
        """Its probability of each class, ``(n, classes)``: the labels it gives a student."""
        return self.model.predict_proba(inputs).astype(np.float32)
