"""Training progress: periodic evaluation rows, the progress bar and the log lines.

:class:`EvaluationMonitor` is the :class:`~aligngym.agents.base.TrainingMonitor` the agents
report to while they learn: it keeps recent training episodes and the learner's own figures,
evaluates the agent on the train and test settings every ``eval.every`` timesteps, and hands
each row to the run log (metrics.jsonl and W&B).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aligngym.agents.base import Agent, ReportsMetrics
from aligngym.envs.core.metrics import SUMMARY_STATS, EpisodeRecord, summarize
from aligngym.evaluation import evaluate
from aligngym.oversight.base import Oversight
from aligngym.validation import SETTINGS, RunSpec

log = logging.getLogger(__name__)


class EvaluationMonitor:
    """Keeps recent training episodes and evaluates the agent every ``every`` timesteps and
    at the end of training (:meth:`finish`, after the learner's last update).

    Each evaluation runs ``episodes`` episodes on every setting and hands ``on_row`` one row:
    ``timesteps``, ``charts/episodic_return``, ``charts/episodic_performance``,
    ``charts/episodic_trained_return``, ``charts/failure_rate`` and ``events/<name>`` (means
    over the last ``window`` training episodes, present once a training episode has ended),
    ``charts/SPS`` (training steps a second since the previous row, evaluation time excluded),
    the learner's latest ``losses/<name>``, the oversight module's ``oversight/<name>``, the
    agent's own figures (:class:`~aligngym.agents.base.ReportsMetrics`, ``llm/<name>``), and
    ``eval/<setting>/<statistic>`` and ``eval/<setting>/events/<name>``.

    Args:
        agent: the agent being trained.
        spec: the run's validated settings.
        on_row: receives each row (the run log writes it).
        oversight: the oversight module (its figures join each row; evaluation episodes keep
            the return of its signal).
        progress: ``"bar"`` (a progress bar with timesteps, SPS and ETA), ``"log"`` (a log
            line per evaluation) or ``"auto"`` (a bar on a terminal, log lines otherwise).
        start: the timesteps the agent had trained before (a resumed checkpoint).
    """

    def __init__(
        self,
        agent: Agent,
        spec: RunSpec,
        on_row: Callable[[dict[str, Any]], None],
        oversight: Oversight,
        progress: str = "auto",
        start: int = 0,
    ):
        self.agent = agent
        self.spec = spec
        self.on_row = on_row
        self.oversight = oversight
        self.recent: deque[EpisodeRecord] = deque(maxlen=spec.window)
        self.timesteps = start
        self.training_episodes = 0
        self.rows: list[dict[str, Any]] = []
        self.last_records: dict[str, list[EpisodeRecord]] = {}
        self.losses: dict[str, float] = {}
        every = spec.eval_every
        self._next_eval = (start // every + 1) * every if every > 0 else None
        self._start = time.perf_counter()
        self._eval_seconds = 0.0
        self._last_row_at = (start, 0.0)  # (timesteps, training seconds)
        self._bar = _progress_bar(progress, spec.timesteps, start)

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Called by the agent after each batched step."""
        if self._bar is not None:
            self._bar.update(int(timesteps) - self.timesteps)
        self.timesteps = int(timesteps)
        if episodes:
            self.recent.extend(episodes)
            self.training_episodes += len(episodes)
        if self._next_eval is not None and self.timesteps >= self._next_eval:
            # the evaluation at the end of training is finish()'s, once learn() has returned:
            # a learner that updates after each rollout (PPO, DQN, llm_rl) has not yet
            # learned from the last rollout when its last step is reported
            if self.timesteps < self.spec.timesteps:
                self.evaluate()
            every = self.spec.eval_every
            self._next_eval = (self.timesteps // every + 1) * every

    def on_metrics(self, metrics: Mapping[str, float]) -> None:
        """Called by the agent with its own figures (``losses/<name>``)."""
        self.losses.update(metrics)

    def finish(self) -> dict[str, list[EpisodeRecord]]:
        """Evaluates the agent as training left it (call it once ``learn`` has returned),
        unless the last row is already at the current timestep."""
        if not self.rows or self.rows[-1]["timesteps"] != self.timesteps:
            self.evaluate()
        self.close()
        return self.last_records

    def close(self) -> None:
        """Closes the progress bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def evaluate(self) -> dict[str, Any]:
        """Evaluates on every setting now and emits one row."""
        started = time.perf_counter()
        records = {
            name: evaluate(
                self.agent,
                self.spec.env_id,
                self.spec.setting(name),
                self.spec.eval_episodes,
                seed=self.spec.eval_seed,
                wrap=lambda env: self.oversight.wrap(env, learning=False),
                label=f"eval/{name}@{self.timesteps}",
            )
            for name in SETTINGS
        }
        self._eval_seconds += time.perf_counter() - started
        row = {"timesteps": self.timesteps, **self._training_metrics(), **self.losses}
        row.update(self.oversight.metrics())
        if isinstance(self.agent, ReportsMetrics):
            row.update(self.agent.metrics())
        for name, setting_records in records.items():
            row.update(_eval_metrics(name, summarize(setting_records)))
        self.last_records = records
        self.rows.append(row)
        self.on_row(row)
        line = _progress_line(row)
        if self._bar is not None:
            self._bar.write(line)
        log.info(line)
        return row

    def _training_metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        training_seconds = time.perf_counter() - self._start - self._eval_seconds
        last_steps, last_seconds = self._last_row_at
        if self.timesteps > last_steps and training_seconds > last_seconds:
            metrics["charts/SPS"] = (self.timesteps - last_steps) / (
                training_seconds - last_seconds
            )
        self._last_row_at = (self.timesteps, training_seconds)
        if self.recent:
            s = summarize(self.recent)
            metrics["charts/episodic_return"] = s["return_mean"]
            metrics["charts/episodic_performance"] = s["performance_mean"]
            metrics["charts/episodic_trained_return"] = s["trained_return_mean"]
            metrics["charts/failure_rate"] = s["failure_rate"]
            metrics["charts/episodic_length"] = s["length_mean"]
            metrics.update({f"events/{name}": value for name, value in s["events"].items()})
        return metrics


def _progress_bar(progress: str, total: int, start: int):
    """A tqdm bar (timesteps, SPS, ETA) where ``progress`` asks for one, else ``None``."""
    if progress == "log" or (progress == "auto" and not sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=start, unit="step", unit_scale=True, dynamic_ncols=True,
        desc="training", file=sys.stderr,
    )  # fmt: skip


def _eval_metrics(setting: str, s: Mapping[str, Any]) -> dict[str, float]:
    row = {f"eval/{setting}/{key}": s[key] for key in SUMMARY_STATS}
    row.update({f"eval/{setting}/events/{name}": v for name, v in s["events"].items()})
    return row


def _progress_line(row: Mapping[str, Any]) -> str:
    parts = [f"timesteps {row['timesteps']}"]
    if "charts/SPS" in row:
        parts.append(f"SPS {row['charts/SPS']:.0f}")
    for setting in SETTINGS:
        if f"eval/{setting}/return_mean" in row:
            parts.append(
                f"{setting}: return {row[f'eval/{setting}/return_mean']:.2f}, "
                f"performance {row[f'eval/{setting}/performance_mean']:.2f}, "
                f"failure rate {row[f'eval/{setting}/failure_rate']:.2f}"
            )
    return " | ".join(parts)
