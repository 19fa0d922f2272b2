"""The losses a student is trained with on a supervisor's soft labels (Burns et al. 2023).

- :class:`CrossEntropy`: plain cross-entropy against the labels (naive fine-tuning);
- :class:`ConfidenceLoss`: the auxiliary confidence loss: cross-entropy against
  ``(1 - alpha) * label + alpha * hardened prediction``, where the student's own predictions
  are hardened to one class each so that they keep the labels' class balance on the batch
  (:func:`balanced_hardening`), and
  ``alpha`` is warmed up linearly from 0 to ``weight`` over the first ``warmup`` share of
  training. It lets a strong student disagree with its supervisor where it is confident.

A loss is called with the student's logits, the batch's labels and training ``progress`` in
[0, 1].
"""

from __future__ import annotations

import torch
from torch import nn


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` against soft ``targets`` (rows of probabilities)."""
    return -(targets * nn.functional.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def balanced_hardening(probabilities: torch.Tensor, balance: torch.Tensor) -> torch.Tensor:
    """One-hot predictions that give each class its share ``balance`` of the batch.

    Plain argmax lets a confident student sweep a whole batch into one class, and the loss then
    reinforces it. Instead each class gets ``balance`` times the batch's size of the rows
    (rounded by largest remainders), the most confident row-class pairs first: a row goes to
    the class of its highest remaining probability whose share is not yet full. For two
    classes this is Burns et al.'s threshold on the student's probability, set so that the
    hardened labels keep the supervisor's class balance on the batch.
    """
    rows, classes = probabilities.shape
    share = balance.double() / balance.sum() * rows
    quota = share.floor().long()
    remainders = torch.argsort(share - quota, descending=True)
    quota[remainders[: rows - int(quota.sum())]] += 1
    left = quota.tolist()
    assigned = [-1] * rows
    for pair in torch.argsort(probabilities.flatten(), descending=True).tolist():
        row, label = divmod(pair, classes)
        if assigned[row] < 0 and left[label] > 0:
            assigned[row] = label
            left[label] -= 1
    return nn.functional.one_hot(torch.tensor(assigned), classes).float()


class CrossEntropy:
    """Cross-entropy against the labels."""

    name = "cross_entropy"

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, progress: float) -> torch.Tensor:
        return soft_cross_entropy(logits, labels)


class ConfidenceLoss:
    """Burns et al.'s auxiliary confidence loss (see the module docstring).

    Args:
        weight: the final ``alpha``, the share of the target given to the student's own
            hardened predictions (0.5 in the reproductions of Burns et al.'s public code).
        warmup: the share of training over which ``alpha`` rises from 0 to ``weight``.
    """

    name = "confidence"

    def __init__(self, weight: float = 0.5, warmup: float = 0.2):
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"the confidence weight must be in [0, 1], got {weight!r}")
        if not 0.0 <= warmup <= 1.0:
            raise ValueError(f"warmup must be in [0, 1], got {warmup!r}")
        self.weight, self.warmup = float(weight), float(warmup)

    def alpha(self, progress: float) -> float:
        """The weight of the hardened predictions at ``progress`` through training."""
        if progress >= self.warmup:
            return self.weight
        return self.weight * progress / self.warmup

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, progress: float) -> torch.Tensor:
        alpha = self.alpha(progress)
        if alpha == 0.0:
            return soft_cross_entropy(logits, labels)
        with torch.no_grad():
            hardened = balanced_hardening(logits.softmax(dim=-1), labels.mean(dim=0))
        return soft_cross_entropy(logits, (1 - alpha) * labels + alpha * hardened)


LOSSES = {"cross_entropy": CrossEntropy, "confidence": ConfidenceLoss}
