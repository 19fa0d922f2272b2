"""A job on a debate scenario: the protocol's games between debaters before a judge.

What :meth:`aligngym.experiment.Job.run` does for a multi-agent (debate) scenario:

1. builds the protocol (``oversight=``), the judge (``judge=``; under ``full_information`` the
   judge that sees all the evidence) and the debaters (``agent=``), refusing a module of the
   wrong kind before any work;
2. trains the debaters for ``train.timesteps`` games where they learn (a row of the recent
   games' judge accuracy and the learner's losses every ``eval.every`` games);
3. plays ``eval.episodes`` games on the train and test settings, seeded from ``eval_seed`` and
   the game's number (:func:`game_seed`),
   each game one episode record (performance: the judge's accuracy; events; the failure event
   ``convinced_by_lie``);
4. writes every game to ``transcript.jsonl`` as it ends (who claimed what, every move, the
   verdict: one JSON line a game), the first test games to ``transcript.md``, one evaluation
   row to ``metrics.jsonl`` and W&B (with the games as the table ``transcript``), and the
   summary as every job does.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from aligngym.agents.base import ReportsMetrics
from aligngym.agents.debate.base import play_game
from aligngym.envs.core.debate import GameRecord, format_game
from aligngym.envs.core.metrics import EpisodeRecord, summarize
from aligngym.envs.registry import make
from aligngym.experiment import Job, SignalCheck
from aligngym.run_logging import RunLog
from aligngym.validation import SETTINGS, RunSpec, build_agent, build_judge, build_oversight

log = logging.getLogger(__name__)

#: test games shown in transcript.md
SHOWN_GAMES = 5
#: the columns of the W&B table of games
GAME_COLUMNS = ("setting", "game", "protocol", "truth", "claims", "moves", "verdict", "correct")


def run_games(job: Job, spec: RunSpec) -> None:
    """Runs ``job`` on a debate scenario (see the module docstring)."""
    cfg = job.cfg
    protocol = build_oversight(cfg, spec)
    debater = job.agent = build_agent(cfg, spec)
    judge = build_judge(cfg, spec, full_information=protocol.protocol == "full_information")
    job.run_log = RunLog(job.folder, cfg, cfg.logger)
    job.summary["timesteps"] = int(getattr(debater, "resumed_timesteps", 0))
    if spec.timesteps > 0 and protocol.has_debaters:
        log.info("training %s for %d games", cfg.agent.name, spec.timesteps)
        monitor = GameTrainingLog(job, spec.eval_every, spec.window)
        debater.learn(
            _env_factory(spec, protocol.protocol), judge, spec.timesteps,
            SignalCheck(monitor, job.received),
        )  # fmt: skip
    games_path = job.folder / "transcript.jsonl"
    records: dict[str, list[EpisodeRecord]] = {}
    games: dict[str, list[GameRecord]] = {}
    for setting in SETTINGS:
        env = make(spec.env_id, protocol=protocol.protocol, **spec.setting(setting))
        records[setting], games[setting] = [], []
        for k in range(spec.eval_episodes):
            record, game = play_game(env, debater, judge, seed=game_seed(spec.eval_seed, k))
            records[setting].append(record)
            games[setting].append(game)
            _append_game(games_path, setting, k, game)
        env.close()
    summaries = {setting: summarize(records[setting]) for setting in SETTINGS}
    oversight_metrics = {f"oversight/{k}": v for k, v in judge.metrics().items()}
    row: dict[str, Any] = {"timesteps": job.summary["timesteps"], **oversight_metrics}
    for setting, s in summaries.items():
        row.update({f"eval/{setting}/{key}": value for key, value in s.items() if key != "events"})
        row.update({f"eval/{setting}/events/{name}": v for name, v in s["events"].items()})
    if isinstance(debater, ReportsMetrics):  # the LLM debater's invalid-argument rate
        job.summary["agent_metrics"] = debater.metrics()
        row.update(job.summary["agent_metrics"])
    job.run_log.log_row(row)
    job.summary.update(
        model=Path(debater.save(job.folder / "model")).name,
        oversight_role=protocol.role,
        oversight_metrics=oversight_metrics,
        **summaries,
    )
    job.run_log.write_summary({**job.summary, "status": "running"})
    shown = games["test"][:SHOWN_GAMES]
    text = "\n\n".join(f"### Test game {k}\n\n```\n{format_game(g)}\n```" for k, g in
                       enumerate(shown))  # fmt: skip
    (job.folder / "transcript.md").write_text(text + "\n", encoding="utf-8")
    job.summary["transcript"] = "transcript.md"
    rows = [_table_row(setting, k, g) for setting in SETTINGS for k, g in enumerate(games[setting])]
    job.run_log.log_transcript(rows, columns=GAME_COLUMNS)


class GameTrainingLog:
    """The training monitor of learning debaters: the games trained so far go into
    ``job.summary["timesteps"]`` (one timestep a game), and every ``every`` games a row of the
    last ``window`` games' judge accuracy, failure rate and events, and the learner's losses,
    goes to metrics.jsonl and W&B."""

    def __init__(self, job: Job, every: int, window: int):
        self.job, self.every = job, every
        self.recent: deque[EpisodeRecord] = deque(maxlen=window)
        self.losses: dict[str, float] = {}

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Records the games played up to ``timesteps``; writes a row on every ``every``."""
        before = self.job.summary["timesteps"]
        self.job.summary["timesteps"] = timesteps
        self.recent.extend(episodes)
        if self.every > 0 and self.recent and timesteps // self.every > before // self.every:
            s = summarize(self.recent)
            row = {"timesteps": timesteps, **self.losses,
                   "charts/episodic_performance": s["performance_mean"],
                   "charts/failure_rate": s["failure_rate"],
                   **{f"events/{name}": v for name, v in s["events"].items()}}  # fmt: skip
            self.job.run_log.log_row(row)
            log.info("games %d: judge accuracy %.3f over the last %d", timesteps,
                     s["performance_mean"], len(self.recent))  # fmt: skip

    def on_metrics(self, metrics: dict[str, float]) -> None:
        """Keeps the learner's latest losses for the next row."""
        self.losses.update(metrics)


def game_seed(eval_seed: int, number: int) -> int:
    """The seed of evaluation game ``number`` of a run whose evaluation seed is ``eval_seed``:
    drawn from both, so that the runs of different seeds play different games (consecutive
    seeds ``eval_seed + number`` would share all but one)."""
    return int(np.random.SeedSequence([eval_seed, number]).generate_state(1)[0])


def _env_factory(spec: RunSpec, protocol: str):
    """Builds training games: the train setting under the run's protocol."""
    return lambda: make(spec.env_id, protocol=protocol, **spec.setting("train"))


def _append_game(path: Path, setting: str, number: int, game: GameRecord) -> None:
    """Appends one finished game to the transcript, flushed (an interrupted job keeps it)."""
    with path.open("a", encoding="utf-8") as file:
        line = {"label": f"eval/{setting}", "game": number, **game.to_dict()}
        file.write(json.dumps(line, ensure_ascii=False) + "\n")


def _table_row(setting: str, number: int, game: GameRecord) -> dict[str, Any]:
    names = {agent: game.answers[c] if c is not None else "any false" for agent, c in
             game.claims.items()}  # fmt: skip
    return {
        "setting": setting,
        "game": number,
        "protocol": game.protocol,
        "truth": game.answers[game.truth],
        "claims": json.dumps(names),
        "moves": "\n".join(f"{m.agent}: {m.text}" for m in game.moves),
        "verdict": None if game.verdict is None else game.answers[game.verdict],
        "correct": game.verdict == game.truth,
    }
