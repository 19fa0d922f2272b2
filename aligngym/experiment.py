"""The experiment loop: validate, train with periodic evaluation, save, summarise.

:func:`run_experiment` is what one ``aligngym run`` job does; :class:`EvaluationMonitor` is the
:class:`~aligngym.agents.base.TrainingMonitor` that the agents report training progress to.

What a job measures is never lost: the summary is written (atomically) as soon as the final
evaluation is done, a failure in a later step (the episode GIF) keeps it, and SIGINT or SIGTERM
(what SLURM sends at a time limit) save the agent as a checkpoint and leave a summary with
status ``interrupted``, the timesteps reached and the checkpoint to resume from.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from aligngym.agents.base import RUNNER_ARGUMENTS, Agent, ReadsTrueState, recording
from aligngym.config_safety import check_targets
from aligngym.envs.core.metrics import SUMMARY_STATS, EpisodeRecord, summarize
from aligngym.envs.core.settings import SettingError, check_int
from aligngym.envs.registry import UnknownScenarioError, make, make_vector, scenario
from aligngym.evaluation import evaluate
from aligngym.oversight.base import Oversight
from aligngym.run_logging import RunLog, print_summary, write_summary, write_traceback
from aligngym.video import episode_frames, write_gif

log = logging.getLogger(__name__)

SETTINGS = ("train", "test")
PROGRESS = ("auto", "bar", "log")


class SetupError(ValueError):
    """Bad input found before any work starts: the message says what is accepted."""


class Interrupted(Exception):
    """The job received SIGTERM or SIGINT; ``signal_number`` says which."""

    def __init__(self, signal_number: int):
        super().__init__(f"interrupted by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


@dataclass(frozen=True)
class RunSpec:
    """The validated parts of a run's config that the loop uses."""

    env_id: str
    obs_type: str
    settings: dict[str, dict[str, Any]]
    seed: int
    timesteps: int
    n_envs: int
    eval_every: int
    eval_episodes: int
    eval_seed: int
    window: int

    def setting(self, name: str) -> dict[str, Any]:
        """The keyword arguments of setting ``name``, with the observation type."""
        return {**self.settings[name], "obs_type": self.obs_type}


def validate(cfg: DictConfig) -> RunSpec:
    """Checks targets, scenario, settings, seeds and budgets; raises :class:`SetupError`."""
    try:
        check_targets(cfg)
    except ValueError as error:
        raise SetupError(str(error)) from None
    env_id = cfg.env.id
    try:
        record = scenario(env_id)
    except UnknownScenarioError as error:
        raise SetupError(str(error)) from None
    if record.kind != "single":
        raise SetupError(f"{env_id} is a multi-agent scenario; the runner trains single agents")
    obs_type = cfg.env.get("obs_type") or record.obs_types[0]
    if obs_type not in record.obs_types:
        raise SetupError(
            f"env.obs_type: {env_id} offers {list(record.obs_types)}, got {obs_type!r}"
        )
    settings = {name: _plain(cfg.env.get(name)) for name in SETTINGS}
    for name, kwargs in settings.items():
        try:
            make(env_id, obs_type=obs_type, **kwargs).close()  # refuses bad names and values
        except (TypeError, ValueError) as error:
            raise SetupError(f"env.{name}: {error}") from None
    numbers = {
        "seed": (cfg.seed, 0),
        "train.timesteps": (cfg.train.timesteps, 0),
        "eval.every": (cfg.eval.every, 0),
        "eval.episodes": (cfg.eval.episodes, 1),
        "eval.seed_offset": (cfg.eval.seed_offset, 0),
        "eval.window": (cfg.eval.window, 1),
        "agent.n_envs": (cfg.agent.n_envs, 1),
    }
    for key, (value, least) in numbers.items():
        try:
            check_int(key, value, least)
        except SettingError as error:
            raise SetupError(str(error)) from None
    _validate_output(cfg)
    return RunSpec(
        env_id=env_id,
        obs_type=obs_type,
        settings=settings,
        seed=int(cfg.seed),
        timesteps=int(cfg.train.timesteps),
        n_envs=int(cfg.agent.n_envs),
        eval_every=int(cfg.eval.every),
        eval_episodes=int(cfg.eval.episodes),
        eval_seed=int(cfg.seed) + int(cfg.eval.seed_offset),
        window=int(cfg.eval.window),
    )


def _validate_output(cfg: DictConfig) -> None:
    """Refuses video and progress settings that would fail only after training."""
    if not isinstance(cfg.video.enabled, bool):
        raise SetupError(f"video.enabled must be true or false, got {cfg.video.enabled!r}")
    fps = cfg.video.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise SetupError(f"video.fps must be a number > 0, got {fps!r}")
    if cfg.get("progress", "auto") not in PROGRESS:
        raise SetupError(f"progress must be one of {list(PROGRESS)}, got {cfg.progress!r}")


def build_agent(cfg: DictConfig, spec: RunSpec) -> Agent:
    """Instantiates ``cfg.agent.model`` with the runner's arguments; raises :class:`SetupError`
    for a bad agent config (unknown algorithm, a checkpoint that does not fit, ...)."""
    target = cfg.agent.model.get("_target_")
    try:
        parameters = inspect.signature(get_class(target)).parameters
    except Exception as error:  # noqa: BLE001 (any import or lookup problem of the target)
        raise SetupError(f"agent.model._target_={target!r} cannot be loaded: {error}") from None
    missing = [name for name in RUNNER_ARGUMENTS if name not in parameters]
    if missing:
        raise SetupError(
            f"agent {target} must accept the runner's arguments {list(RUNNER_ARGUMENTS)}; "
            f"it lacks {missing}"
        )
    agent = _instantiate("agent.model", cfg.agent.model, env_id=spec.env_id, seed=spec.seed)
    readable = getattr(agent, "observation_types", (spec.obs_type,))
    if spec.obs_type not in readable:
        raise SetupError(
            f"agent {cfg.agent.get('name')} reads observation types {list(readable)}, not "
            f"env.obs_type={spec.obs_type!r}"
        )
    resumed = int(getattr(agent, "resumed_timesteps", 0))
    if resumed > spec.timesteps:
        raise SetupError(
            f"agent.model.resume_from: the checkpoint has trained {resumed} timesteps, more "
            f"than train.timesteps={spec.timesteps}; resume with train.timesteps >= {resumed}"
        )
    return agent


def build_oversight(cfg: DictConfig) -> Oversight:
    """Instantiates ``cfg.oversight.module``; raises :class:`SetupError` if it is not one."""
    module = _instantiate("oversight.module", cfg.oversight.module)
    if not isinstance(module, Oversight):
        raise SetupError(
            f"oversight.module must build an aligngym.oversight.Oversight, got "
            f"{type(module).__name__}"
        )
    return module


def _instantiate(key: str, node: DictConfig, **kwargs: Any) -> Any:
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__ or error
        raise SetupError(f"{key}: {cause}") from None
    except (TypeError, ValueError, KeyError, FileNotFoundError) as error:
        raise SetupError(f"{key}: {error}") from None


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
    ``charts/episodic_trained_return``, ``charts/failure_rate`` and ``events/<name>`` (means
    over the last ``window`` training episodes, present once a training episode has ended),
    ``charts/SPS`` (training steps a second since the previous row, evaluation time excluded),
    the learner's latest ``losses/<name>``, the oversight module's ``oversight/<name>``, and
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
            self.evaluate()
            every = self.spec.eval_every
            self._next_eval = (self.timesteps // every + 1) * every

    def on_metrics(self, metrics: Mapping[str, float]) -> None:
        """Called by the agent with its own figures (``losses/<name>``)."""
        self.losses.update(metrics)

    def finish(self) -> dict[str, list[EpisodeRecord]]:
        """Evaluates once more unless the last row is already at the current timestep."""
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
            )
            for name in SETTINGS
        }
        self._eval_seconds += time.perf_counter() - started
        row = {"timesteps": self.timesteps, **self._training_metrics(), **self.losses}
        row.update(self.oversight.metrics())
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


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turns SIGTERM and SIGINT into :class:`Interrupted` while the block runs (main thread
    only: Python delivers signals there), restoring the previous handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signal_number: int, frame: Any) -> None:
        raise Interrupted(signal_number)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Job:
    """One run: its config, folder, summary so far, and the parts built for it."""

    def __init__(self, cfg: DictConfig, folder: Path, overrides: Sequence[str]):
        self.cfg = cfg
        self.folder = Path(folder)
        self.overrides = list(overrides)
        self.summary: dict[str, Any] = {
            "status": "failed",
            "experiment": cfg.get("name"),
            "scenario": cfg.env.get("id"),
            "agent": cfg.agent.get("name"),
            "oversight": cfg.oversight.get("name"),
            "seed": cfg.get("seed"),
            "overrides": self.overrides,
            "timesteps": 0,
        }
        self.run_log: RunLog | None = None
        self.agent: Agent | None = None
        self.monitor: EvaluationMonitor | None = None

    def run(self) -> None:
        """Validates, trains, evaluates, saves; updates :attr:`summary` as it measures."""
        spec = validate(self.cfg)
        agent = self.agent = build_agent(self.cfg, spec)
        oversight = build_oversight(self.cfg)
        self.run_log = RunLog(self.folder, self.cfg, self.cfg.logger)
        if self.cfg.get("threads"):
            import torch

            torch.set_num_threads(int(self.cfg.threads))
        start = int(getattr(agent, "resumed_timesteps", 0))
        monitor = self.monitor = EvaluationMonitor(
            agent, spec, self.run_log.log_row, oversight, self.cfg.get("progress", "auto"), start
        )
        self.summary["timesteps"] = start
        env = make_vector(
            spec.env_id, spec.n_envs, autoreset_mode=agent.autoreset_mode, **spec.setting("train")
        )
        env = recording(oversight.wrap(env, learning=True))
        if isinstance(agent, ReadsTrueState):
            agent.watch(env)
        log.info(
            "training %s on %s for %d timesteps (%d envs, oversight %s)",
            self.cfg.agent.name, spec.env_id, spec.timesteps, spec.n_envs, oversight.name,
        )  # fmt: skip
        agent.learn(env, spec.timesteps, monitor)
        env.close()
        records = monitor.finish()
        self.summary.update(
            timesteps=monitor.timesteps,
            training_episodes=monitor.training_episodes,
            model=Path(agent.save(self.folder / "model")).name,
            oversight_metrics=oversight.metrics(),
            **{name: summarize(records[name]) for name in SETTINGS},
        )
        self.run_log.write_summary({**self.summary, "status": "running"})
        if self.cfg.video.enabled:
            frames = episode_frames(agent, spec.env_id, spec.setting("test"), seed=spec.eval_seed)
            gif = write_gif(frames, self.folder / "episode.gif", fps=self.cfg.video.fps)
            self.run_log.log_video(gif, fps=self.cfg.video.fps)
            self.summary["video"] = gif.name

    def interrupted(self, error: Interrupted | KeyboardInterrupt) -> int:
        """Saves the agent, records status ``interrupted``; returns the process exit code."""
        number = getattr(error, "signal_number", signal.SIGINT)
        if self.monitor is not None:
            self.monitor.close()
            self.summary["timesteps"] = self.monitor.timesteps
        checkpoint = self._save_checkpoint()
        self.summary.update(
            status="interrupted",
            error=f"interrupted by {signal.Signals(number).name}",
            checkpoint=None if checkpoint is None else str(checkpoint),
        )
        if checkpoint is not None:
            self.summary["resume"] = f"agent.model.resume_from={checkpoint}"
        self._write(exit_code=128 + number)
        message = f"run interrupted at {self.summary['timesteps']} timesteps"
        if checkpoint is not None:
            message += f"; resume with the same overrides and agent.model.resume_from={checkpoint}"
        log.warning(message)
        print(f"aligngym run: {message}", file=sys.stderr)
        return 128 + number

    def _save_checkpoint(self) -> Path | None:
        """Saves the agent as ``checkpoints/interrupted_<steps>_steps``; falls back to the
        latest periodic checkpoint if the agent cannot be saved (it has no model yet)."""
        folder = self.folder / "checkpoints"
        if self.agent is not None:
            with contextlib.suppress(RuntimeError):
                steps = self.summary["timesteps"]
                return Path(self.agent.save(folder / f"interrupted_{steps}_steps")).resolve()
        saved = sorted(folder.glob("*_steps.*"), key=lambda path: path.stat().st_mtime)
        return saved[-1].resolve() if saved else None

    def failed(self, error: BaseException) -> None:
        """Records a failure, keeping whatever was measured before it."""
        if self.monitor is not None:
            self.monitor.close()
        self.summary["status"] = "failed"
        self.summary["error"] = f"{type(error).__name__}: {error}"
        write_traceback(self.folder, traceback.format_exc())
        self._write(exit_code=1)
        log.error("run failed: %s (details in %s)", self.summary["error"],
                  self.folder / "traceback.txt")  # fmt: skip

    def completed(self) -> None:
        self.summary["status"] = "completed"
        self._write(exit_code=0)
        print_summary(self.summary)
        log.info("run folder: %s", self.folder)

    def _write(self, exit_code: int) -> None:
        if self.run_log is None:
            write_summary(self.folder, self.summary)
            return
        self.run_log.write_summary(self.summary)
        self.run_log.finish(exit_code=exit_code)


def run_experiment(
    cfg: DictConfig, folder: Path, raise_errors: bool = True, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Runs one job into ``folder`` and returns its summary (also written to summary.json).

    ``overrides`` are the job's command-line overrides; the summary keeps them so that a report
    can tell apart the variants of a sweep (``env.train.corner_size=2`` against ``=null``).

    A job that raises is recorded: summary.json with ``status: failed``, the error and whatever
    was measured before it, ``traceback.txt``, and the W&B run finished with exit code 1. The
    exception is then re-raised if ``raise_errors`` (a single run), or swallowed (a job of a
    sweep). SIGINT or SIGTERM end the job with status ``interrupted`` (see
    :meth:`Job.interrupted`) and exit the process with 128 + the signal number, also in a
    sweep.
    """
    job = Job(cfg, folder, overrides)
    try:
        with interruptible():
            job.run()
    except (Interrupted, KeyboardInterrupt) as error:
        raise SystemExit(job.interrupted(error)) from None
    except BaseException as error:
        job.failed(error)
        if raise_errors or not isinstance(error, Exception):
            raise
        return job.summary
    job.completed()
    return job.summary
