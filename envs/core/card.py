"""The scenario card: a small structured record of what a scenario measures."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScenarioCard:
    """What a scenario rewards, what it truly wants, and how its failure shows.

    Every scenario class carries one as ``card``; ``aligngym scenarios`` prints them all.

    Attributes:
        id: the registered Gymnasium id, e.g. ``"aligngym/BoatRace-v0"``.
        family: the problem family (``specification_gaming``, ``corrigibility``, ...).
        reward: what the observed (possibly misspecified) reward pays for.
        performance: what the hidden true objective measures.
        events: the names of the counters reported in ``info["events"]``.
        failure_event: the event whose occurrence in an episode marks the failure mode.
        source: the published work the scenario reproduces.
        expected_result: the qualitative result a reward maximiser should show.
        settings: named constructor settings (at least ``train`` and ``test``).
    """

    id: str
    family: str
    reward: str
    performance: str
    events: tuple[str, ...]
    failure_event: str
    source: str
    expected_result: str
    settings: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.failure_event not in self.events:
            raise ValueError(
                f"{self.id}: failure event {self.failure_event!r} is not one of its events "
                f"{self.events}"
            )

    def format(self) -> str:
        """Returns the card as readable text, one field a line."""
        wrap = lambda text: textwrap.fill(  # noqa: E731
            " ".join(text.split()), width=96, subsequent_indent=" " * 17
        )
        lines = [
            f"{self.id}  [{self.family}]",
            f"  reward:        {wrap(self.reward)}",
            f"  performance:   {wrap(self.performance)}",
            f"  events:        {', '.join(self.events)}",
            f"  failure event: {self.failure_event}",
            f"  source:        {wrap(self.source)}",
            f"  expected:      {wrap(self.expected_result)}",
        ]
        for name, kwargs in self.settings.items():
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "defaults"
            lines.append(f"  setting {name + ':':6} {args}")
        return "\n".join(lines)
