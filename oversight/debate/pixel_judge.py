"""The pixel-debate judge: a classifier of 8x8 digits from a few revealed pixels.

As in Irving et al. (2018), the judge is a network trained, before any debate, to classify
digits from ``moves`` pixels drawn at random among each image's nonzero pixels; its input is the
revealed mask and the revealed values. Under ``full_information`` it is trained and used on
whole images instead: the ceiling. Trained once per setting and kept in aligngym's cache
(:mod:`aligngym.cache`), so every job of a sweep reuses one judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from aligngym.cache import cached_state
from aligngym.envs.core.digits import CLASSES, PIXELS, digits
from aligngym.oversight.debate.judges import Judge, restricted

ENV_ID = "aligngym/PixelDebate-v0"
#: test images x random masks of the held-out accuracy in :meth:`PixelJudge.metrics`
HELD_OUT_MASKS = 10


def random_masks(images: np.ndarray, pixels: int | None, rng: np.random.Generator) -> np.ndarray:
    """One mask per image with ``pixels`` of its nonzero pixels drawn at random (every pixel
    where ``pixels`` is None: full information)."""
    if pixels is None:
        return np.ones(images.shape, dtype=bool)
    keys = rng.random(images.shape)
    keys[images <= 0] = np.inf  # zero pixels last: never drawn while nonzero ones remain
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    return ranks < pixels


def network(hidden: Sequence[int]) -> nn.Sequential:
    """The judge's MLP: revealed mask and values (128) to class logits (10)."""
    layers: list[nn.Module] = []
    width = 2 * PIXELS
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, CLASSES))
    return nn.Sequential(*layers)


class PixelJudge(Judge):
    """A judge of :class:`~aligngym.envs.scalable_oversight.pixel_debate.PixelDebate` (see the
    module docstring).

    Args:
        env_id: the scenario (only the pixel debate).
        settings: the scenario's train setting; ``moves`` is the number of pixels it is
            trained on.
        full_information: train and judge on whole images.
        seed: the seed of its training (the config keeps one judge for every run's seed).
        hidden: the MLP's hidden widths.
        steps: Adam steps of training, each on ``batch_size`` freshly masked train images.
        batch_size: images per step.
        learning_rate: Adam's step size.
    """

    scenarios = (ENV_ID,)

    def __init__(
        self,
        env_id: str,
        settings: dict[str, Any],
        full_information: bool = False,
        seed: int = 0,
        hidden: Sequence[int] = (256, 256),
        steps: int = 4000,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
    ):
        if env_id != ENV_ID:
            raise ValueError(f"the pixel judge judges {ENV_ID} only, not {env_id}")
        self.pixels = None if full_information else int(settings.get("moves", 6))
        self.hidden = tuple(int(h) for h in hidden)
        key = {
            "pixels": self.pixels, "seed": int(seed), "hidden": self.hidden, "steps": int(steps),
            "batch_size": int(batch_size), "learning_rate": float(learning_rate), "version": 1,
        }  # fmt: skip
        self.model = network(self.hidden)
        self.cached = cached_state(
            "pixel_judge",
            key,
            self.model,
            lambda: self._train(int(seed), int(steps), int(batch_size), float(learning_rate)),
        )
        self.model.eval()
        self._accuracy = self._held_out_accuracy(int(seed))

    def _train(self, seed: int, steps: int, batch_size: int, learning_rate: float) -> None:
        images, labels = digits("train")
        rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        optimiser = torch.optim.Adam(self.model.parameters(), lr=learning_rate)
        for _ in range(steps):
            rows = rng.integers(len(labels), size=batch_size)
            inputs = self._inputs(images[rows], random_masks(images[rows], self.pixels, rng))
            loss = nn.functional.cross_entropy(self.model(inputs), torch.from_numpy(labels[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    @staticmethod
    def _inputs(images: np.ndarray, masks: np.ndarray) -> torch.Tensor:
        masks = masks.astype(np.float32)
        return torch.from_numpy(np.concatenate([masks, masks * images], axis=1))

    def _held_out_accuracy(self, seed: int) -> float:
        """Accuracy over all ten classes on the test split, random masks: the judge alone."""
        images, labels = digits("test")
        images = np.repeat(images, HELD_OUT_MASKS, axis=0)
        masks = random_masks(images, self.pixels, np.random.default_rng(seed + 1))
        with torch.no_grad():
            predicted = self.model(self._inputs(images, masks)).argmax(1).numpy()
        return float(np.mean(predicted == np.repeat(labels, HELD_OUT_MASKS)))

    def beliefs(self, views: Sequence[Any]) -> np.ndarray:
        views = np.asarray(views, dtype=np.float32).reshape(-1, 2 * PIXELS + CLASSES)
        with torch.no_grad():
            logits = self.model(torch.from_numpy(views[:, : 2 * PIXELS]))
        return restricted(torch.softmax(logits, 1).numpy(), views[:, 2 * PIXELS :])

    def metrics(self) -> dict[str, float]:
        """``judge_held_out_accuracy``: over all ten classes on the test digits with random
        pixels (whole images under full information)."""
        return {"judge_held_out_accuracy": self._accuracy}
