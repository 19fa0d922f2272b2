"""Self-supervised pretraining of a student's encoder: contrastive learning (SimCLR).

A strong student in Burns et al. (2023) is a *pretrained* model: its representation already
holds the task's concept, which weak labels need only elicit. Here a student pretrains its
encoder, without labels, on the inputs of the task's train split (Chen et al. 2020, SimCLR):
two random perturbations of each input (the task's :meth:`~aligngym.envs.core.labelled.
LabelledTask.augment`) are pulled together in a normalised embedding, and apart from every
other input's, with the NT-Xent loss. Written here because neither scikit-learn nor torch
ships it; it is some thirty lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn


def encoder_network(inputs: int, hidden: Sequence[int], embedding: int) -> nn.Sequential:
    """An MLP from ``inputs`` features through ``hidden`` widths to ``embedding`` features."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(inputs, size), nn.ReLU()]
        inputs = size
    return nn.Sequential(*layers, nn.Linear(inputs, embedding))


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent loss of two batches of embeddings, row ``i`` of each the same input."""
    z = nn.functional.normalize(torch.cat([first, second]), dim=-1)
    similarity = z @ z.T / temperature
    similarity.fill_diagonal_(float("-inf"))
    n = len(first)
    partners = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return nn.functional.cross_entropy(similarity, partners)


def pretrain(
    encoder: nn.Module,
    inputs: np.ndarray,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    temperature: float,
    seed: int,
) -> None:
    """Trains ``encoder`` in place with Adam on NT-Xent over ``epochs`` passes of ``inputs``."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(encoder.parameters(), lr=learning_rate)
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        for start in range(0, len(inputs) - 1, batch_size):
            batch = inputs[order[start : start + batch_size]]
            if len(batch) < 2:
                continue
            first = encoder(torch.from_numpy(augment(batch, rng)))
            second = encoder(torch.from_numpy(augment(batch, rng)))
            loss = nt_xent(first, second, temperature)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
