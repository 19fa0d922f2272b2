"""Preference labellers: models of real overseers, each with its quality stated.

A labeller is shown pairs of segments ``(a[i], b[i])`` and says which it prefers: ``1.0`` for
``a[i]``, ``0.0`` for ``b[i]``. All are Boltzmann-rational over what they can see, the return
of the segment by their own judgement:

``P(a preferred) = sigmoid((judged(a) - judged(b)) / (temperature * scale))``

where ``scale`` is the standard deviation of the judged returns of every segment the labeller
has been shown so far. A temperature relative to the returns' spread means the same
``temperature`` is the same overseer on any scenario; imitation's synthetic labeller divides by
an unscaled temperature, which makes it nearly deterministic on returns of size 10-100.

- :class:`OracleLabeller` judges by the hidden performance (an overseer who knows the truth);
- :class:`NoisyLabeller` is the oracle whose answer is flipped with probability ``error_rate``;
- :class:`RewardBiasedLabeller` judges by the observed reward: an overseer who is fooled by
  appearances (in TomatoWatering, by a tampered view of watered tomatoes);
- :class:`PartialLabeller` is the oracle shown only the first ``fraction`` of each segment.
"""

from __future__ import annotations

import numpy as np

from aligngym.oversight.preferences.segments import Segments


class OracleLabeller:
    """Boltzmann-rational over the segments' true performance.

    Args:
        temperature: the noise of the choice, relative to the spread of segment returns
            (0: always the better segment; 0.1: a segment 0.1 standard deviations better is
            preferred 73 % of the time).
        seed: seeds the labeller's choices.
    """

    name = "oracle"

    def __init__(self, temperature: float = 0.1, seed: int = 0):
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        self.temperature = float(temperature)
        self.rng = np.random.default_rng(seed)
        self._count = 0
        self._mean = 0.0
        self._squares = 0.0  # Welford's running sum of squared deviations

    @property
    def quality(self) -> str:
        """The labeller's quality in words (for the run's summary and report)."""
        return f"Boltzmann-rational on performance, temperature {self.temperature:g} x return std"

    def judged_returns(self, segments: Segments) -> np.ndarray:
        """The return of each segment as this labeller judges it."""
        return segments.performance.sum(axis=1)

    def label(self, a: Segments, b: Segments) -> np.ndarray:
        """The labeller's choice for each pair: 1.0 where it prefers ``a[i]``, else 0.0."""
        if len(a) != len(b):
            raise ValueError(f"label needs as many segments in a ({len(a)}) as in b ({len(b)})")
        judged_a, judged_b = self.judged_returns(a), self.judged_returns(b)
        self._track(np.concatenate([judged_a, judged_b]))
        difference = judged_a - judged_b
        if self.temperature == 0:
            ties = self.rng.random(len(difference)) < 0.5
            return np.where(difference == 0, ties, difference > 0).astype(float)
        scale = max(np.sqrt(self._squares / max(self._count - 1, 1)), 1e-8)
        p_a = 1.0 / (1.0 + np.exp(-difference / (self.temperature * scale)))
        return (self.rng.random(len(p_a)) < p_a).astype(float)

    def _track(self, judged: np.ndarray) -> None:
        """Updates the running spread of judged returns (Welford's algorithm)."""
        for value in judged.tolist():
            self._count += 1
            delta = value - self._mean
            self._mean += delta / self._count
            self._squares += delta * (value - self._mean)


class NoisyLabeller(OracleLabeller):
    """The oracle, whose choice is flipped with probability ``error_rate``."""

    name = "noisy"

    def __init__(self, temperature: float = 0.1, error_rate: float = 0.25, seed: int = 0):
        super().__init__(temperature, seed)
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must lie in [0, 1], got {error_rate}")
        self.error_rate = float(error_rate)

    @property
    def quality(self) -> str:
        return f"{super().quality}, answer flipped with probability {self.error_rate:g}"

    def label(self, a: Segments, b: Segments) -> np.ndarray:
        labels = super().label(a, b)
        flip = self.rng.random(len(labels)) < self.error_rate
        return np.where(flip, 1.0 - labels, labels)


class RewardBiasedLabeller(OracleLabeller):
    """Judges by the observed reward: fooled wherever the reward (or a tampered observation
    it is computed from) departs from the truth."""

    name = "reward_biased"

    @property
    def quality(self) -> str:
        return (
            f"Boltzmann-rational on the observed reward, temperature {self.temperature:g} x "
            "return std"
        )

    def judged_returns(self, segments: Segments) -> np.ndarray:
        return segments.rewards.sum(axis=1)


class PartialLabeller(OracleLabeller):
    """The oracle shown only the first ``fraction`` of each segment (at least one step)."""

    name = "partial"

    def __init__(self, temperature: float = 0.1, fraction: float = 0.5, seed: int = 0):
        super().__init__(temperature, seed)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
        self.fraction = float(fraction)

    @property
    def quality(self) -> str:
        return f"{super().quality}, shown the first {self.fraction:.0%} of each segment"

    def judged_returns(self, segments: Segments) -> np.ndarray:
        steps = max(1, int(round(self.fraction * segments.length)))
        return super().judged_returns(segments.first(steps))
