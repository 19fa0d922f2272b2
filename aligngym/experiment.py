"""The experiment loop: validate, train with periodic evaluation, save, summarise.

:func:`run_experiment` is what one ``aligngym run`` job does; :class:`EvaluationMonitor` is the
:class:`~aligngym.agents.base.TrainingMonitor` that the agents report training progress to.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from aligngym.agents.base import Agent
from aligngym.envs.core.metrics import SUMMARY_STATS, EpisodeRecord, summarize
from aligngym.envs.registry import check_settings, make_sb3_vec_env, scenario_class
from aligngym.evaluation import evaluate
from aligngym.run_logging import RunLog, print_summary, write_summary, write_traceback
from aligngym.video import episode_frames, write_gif

log = logging.getLogger(__name__)

SETTINGS = ("train", "test")
OVERSIGHT = ("none",)


class SetupError(ValueError):
    """Bad input found before any work starts: the message says what is accepted."""


@dataclass(frozen=True)
class RunSpec:
    """The validated parts of a run's config that the loop uses."""

    env_id: str
    settings: dict[str, dict[str, Any]]
    seed: int
    timesteps: int
    eval_every: int
    eval_episodes: int
    eval_seed: int
    window: int


def validate(cfg: DictConfig) -> RunSpec:
    """Checks scenario, settings, oversight and budgets; raises :class:`SetupError`."""
    env_id = cfg.env.id
    try:
        env_class = scenario_class(env_id)
    except KeyError as error:
        raise SetupError(str(error)) from None
    settings = {name: _plain(cfg.env.get(name)) for name in SETTINGS}
    for name, kwargs in settings.items():
        try:
            check_settings(env_id, kwargs)
            env_class.core_class(num_envs=1, **kwargs)  # refuses bad values, e.g. a track
        except (TypeError, ValueError) as error:
            raise SetupError(f"env.{name}: {error}") from None
    if cfg.oversight.name not in OVERSIGHT:
        raise SetupError(
            f"unknown oversight {cfg.oversight.name!r}; the runner accepts: {', '.join(OVERSIGHT)}"
        )
    numbers = {
        "train.timesteps": (cfg.train.timesteps, 0),
        "eval.every": (cfg.eval.every, 0),
        "eval.episodes": (cfg.eval.episodes, 1),
        "eval.window": (cfg.eval.window, 1),
        "agent.n_envs": (cfg.agent.n_envs, 1),
    }
    for key, (value, least) in numbers.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise SetupError(f"{key} must be an integer >= {least}, got {value!r}")
    return RunSpec(
        env_id=env_id,
        settings=settings,
        seed=int(cfg.seed),
        timesteps=int(cfg.train.timesteps),
        eval_every=int(cfg.eval.every),
        eval_episodes=int(cfg.eval.episodes),
        eval_seed=int(cfg.seed) + int(cfg.eval.seed_offset),
        window=int(cfg.eval.window),
    )


def _plain(node: Any) -> dict[str, Any]:
    if node is None:
        return {}
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    return dict(node)


class EvaluationMonitor:
    """Keeps recent training episodes and evaluates the agent every ``every`` timesteps.

    Each evaluation runs ``episodes`` episodes on every setting and hands ``on_row`` one row:
    ``timesteps``, ``charts/episodic_return``, ``charts/episodic_performance``,
    ``charts/failure_rate`` and ``events/<name>`` (means over the last ``window`` training
    episodes, present once a training episode has ended), ``charts/SPS`` (training steps a
    second since the previous row, evaluation time excluded), and
    ``eval/<setting>/<return_mean|return_std|performance_mean|performance_std|failure_rate|
    length_mean>`` and ``eval/<setting>/events/<name>``.

    Args:
        agent: the agent being trained.
        spec: the run's validated settings.
        on_row: receives each row (the run log writes it).
    """

    def __init__(self, agent: Agent, spec: RunSpec, on_row: Callable[[dict[str, Any]], None]):
        self.agent = agent
        self.spec = spec
        self.on_row = on_row
        self.recent: deque[EpisodeRecord] = deque(maxlen=spec.window)
        self.timesteps = 0
        self.training_episodes = 0
        self.rows: list[dict[str, Any]] = []
        self.last_records: dict[str, list[EpisodeRecord]] = {}
        self._next_eval = spec.eval_every if spec.eval_every > 0 else None
        self._start = time.perf_counter()
        self._eval_seconds = 0.0
        self._last_row_at = (0, 0.0)  # (timesteps, training seconds)

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Called by the agent after each batched training step."""
        self.timesteps = int(timesteps)
        if episodes:
            self.recent.extend(episodes)
            self.training_episodes += len(episodes)
        if self._next_eval is not None and self.timesteps >= self._next_eval:
            self.evaluate()
            every = self.spec.eval_every
            self._next_eval = (self.timesteps // every + 1) * every

    def finish(self) -> dict[str, list[EpisodeRecord]]:
        """Evaluates once more unless the last row is already at the current timestep."""
        if not self.rows or self.rows[-1]["timesteps"] != self.timesteps:
            self.evaluate()
        return self.last_records

    def evaluate(self) -> dict[str, Any]:
        """Evaluates on every setting now and emits one row."""
        started = time.perf_counter()
        records = {
            name: evaluate(
                self.agent,
                self.spec.env_id,
                kwargs,
                self.spec.eval_episodes,
                seed=self.spec.eval_seed,
            )
            for name, kwargs in self.spec.settings.items()
        }
        self._eval_seconds += time.perf_counter() - started
        row = {"timesteps": self.timesteps, **self._training_metrics()}
        for name, setting_records in records.items():
            row.update(_eval_metrics(name, summarize(setting_records)))
        self.last_records = records
        self.rows.append(row)
        self.on_row(row)
        log.info(_progress_line(row))
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
            metrics["charts/failure_rate"] = s["failure_rate"]
            metrics["charts/episodic_length"] = s["length_mean"]
            metrics.update({f"events/{name}": value for name, value in s["events"].items()})
        return metrics


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


def run_experiment(
    cfg: DictConfig, folder: Path, raise_errors: bool = True, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Runs one job into ``folder`` and returns its summary (also written to summary.json).

    ``overrides`` are the job's command-line overrides; the summary keeps them so that a report
    can tell apart the variants of a sweep (``env.train.corner_size=2`` against ``=null``).

    A job that raises is recorded: summary.json with ``status: failed`` and the error,
    ``traceback.txt``, and the W&B run finished with exit code 1. The exception is then
    re-raised if ``raise_errors`` (a single run), or swallowed (a job of a sweep).
    """
    folder = Path(folder)
    summary: dict[str, Any] = {
        "status": "failed",
        "experiment": cfg.get("name"),
        "scenario": cfg.env.get("id"),
        "agent": cfg.agent.get("name"),
        "oversight": cfg.oversight.get("name"),
        "seed": cfg.get("seed"),
        "overrides": list(overrides),
        "timesteps": 0,
    }
    run_log: RunLog | None = None
    try:
        spec = validate(cfg)
        run_log = RunLog(folder, cfg, cfg.logger)
        summary.update(_train_and_evaluate(cfg, spec, folder, run_log))
        summary["status"] = "completed"
    except BaseException as error:
        summary["error"] = f"{type(error).__name__}: {error}"
        write_traceback(folder, traceback.format_exc())
        if run_log is None:
            write_summary(folder, summary)
        else:
            run_log.write_summary(summary)
            run_log.finish(failed=True)
        log.error("run failed: %s (details in %s)", summary["error"], folder / "traceback.txt")
        if raise_errors or not isinstance(error, Exception):
            raise
        return summary
    run_log.write_summary(summary)
    run_log.finish(failed=False)
    print_summary(summary)
    log.info("run folder: %s", folder)
    return summary


def _train_and_evaluate(
    cfg: DictConfig, spec: RunSpec, folder: Path, run_log: RunLog
) -> dict[str, Any]:
    if cfg.get("threads"):
        import torch

        torch.set_num_threads(int(cfg.threads))
    agent: Agent = instantiate(cfg.agent.model, env_id=spec.env_id, seed=spec.seed)
    env = make_sb3_vec_env(spec.env_id, cfg.agent.n_envs, seed=spec.seed, **spec.settings["train"])
    monitor = EvaluationMonitor(agent, spec, run_log.log_row)
    log.info(
        "training %s on %s for %d timesteps (%d envs)",
        cfg.agent.name,
        spec.env_id,
        spec.timesteps,
        cfg.agent.n_envs,
    )
    agent.learn(env, spec.timesteps, monitor)
    env.close()
    records = monitor.finish()
    model_path = agent.save(folder / "model")
    result: dict[str, Any] = {
        "timesteps": monitor.timesteps,
        "training_episodes": monitor.training_episodes,
        "model": Path(model_path).name,
    }
    result.update({name: summarize(records[name]) for name in SETTINGS})
    if cfg.video.enabled:
        frames = episode_frames(
            agent, spec.env_id, spec.settings["test"], seed=spec.eval_seed, tile=cfg.video.tile
        )
        gif = write_gif(frames, folder / "episode.gif", fps=cfg.video.fps)
        run_log.log_video(gif, fps=cfg.video.fps)
        result["video"] = gif.name
    return result
