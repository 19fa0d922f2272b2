"""What a debater is, for the runner: it plays the debater seats of a debate game.

A debater acts for whichever debater seat (``honest``, ``liar``, ``consultant``) is to move:
:meth:`Debater.act` gets the game itself (a :class:`~aligngym.envs.core.debate.DebateEnv`),
the seat, and the judge. Debaters that search read the game through its documented
look-ahead (:meth:`~aligngym.envs.core.debate.DebateEnv.legal_moves`,
:meth:`~aligngym.envs.core.debate.DebateEnv.judge_views_after`) and query the judge's beliefs;
learned debaters read only their seat's observation (``env.observe(agent)``).

The runner builds a debater from ``agent.model`` (a ``_target_``) with ``env_id`` and ``seed``,
like every agent, and refuses a debater on a single-agent scenario (and a single-agent agent on
a debate) before any work: :attr:`Debater.scenario_kind` says which it plays.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from aligngym.envs.core.debate import DebateEnv, GameRecord
from aligngym.envs.core.metrics import EpisodeRecord
from aligngym.envs.registry import card_of
from aligngym.oversight.debate.judges import Judge


class Debater(ABC):
    """Base class of debaters that do not learn: :meth:`learn` does nothing, :meth:`save`
    writes the settings (what reproduces it).

    Args:
        env_id: the scenario.
        seed: the run's seed (for debaters that draw at random).
    """

    #: the kind of scenario it plays: ``"multi"`` (debate games)
    scenario_kind: ClassVar[str] = "multi"

    def __init__(self, env_id: str, seed: int = 0):
        self.env_id = env_id
        self.seed = int(seed)

    @abstractmethod
    def act(self, env: DebateEnv, agent: str, judge: Judge) -> Any:
        """The move of seat ``agent`` (the one to move in ``env``)."""

    def learn(self, make_env: Any, judge: Judge, total_games: int, monitor: Any) -> None:  # noqa: B027
        """Trains for ``total_games`` games; debaters that do not learn return at once."""

    def settings(self) -> dict[str, Any]:
        """What :meth:`save` writes: the debater's class and settings."""
        return {"class": type(self).__qualname__, "env_id": self.env_id, "seed": self.seed}

    def save(self, path: Path) -> Path:
        """Writes :meth:`settings` to ``path`` with suffix ``.json``."""
        path = Path(path).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.settings(), indent=2))
        return path


def side(env: DebateEnv, agent: str) -> float:
    """+1 for a seat that argues for the truth, -1 for one that argues against it: the sign
    with which it wants :meth:`~aligngym.envs.core.debate.DebateEnv.honest_margin`."""
    return 1.0 if env.is_honest(agent) else -1.0


def play_game(
    env: DebateEnv, debater: Debater, judge: Judge, seed: int
) -> tuple[EpisodeRecord, GameRecord]:
    """Plays one game of ``env`` from ``reset(seed=seed)``: ``debater`` in every debater seat,
    ``judge`` giving the verdict; returns its episode record and its transcript."""
    env.reset(seed=seed)
    rewards = 0.0
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, info = env.last()
        if agent == "judge":
            rewards += reward
        if terminated or truncated:
            env.step(None)
            continue
        env.step(judge.decide(observation) if agent == "judge" else debater.act(env, agent, judge))
    events = info["events"]
    failure = card_of(env).failure_event
    record = EpisodeRecord(
        ret=rewards, performance=info["performance"], length=len(env.record.moves),
        events=dict(events), failed=events[failure] > 0, trained_return=rewards,
    )  # fmt: skip
    return record, env.record
