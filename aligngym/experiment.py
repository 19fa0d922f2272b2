"""The experiment loop: validate, train with periodic evaluation, save, summarise.

:func:`run_experiment` is what one ``aligngym run`` job does.

What a job measures is never lost: the summary is written (atomically) as soon as the final
evaluation is done, a failure in a later step (the episode GIF) keeps it, and SIGINT or SIGTERM
(what SLURM sends at a time limit) save the agent as a checkpoint and leave a summary with
status ``interrupted``, the timesteps reached and the checkpoint to resume from.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from aligngym.agents.base import Agent, ReadsTrueState, recording
from aligngym.envs.core.metrics import summarize
from aligngym.envs.registry import make_vector
from aligngym.monitoring import EvaluationMonitor
from aligngym.run_logging import RunLog, print_summary, write_summary, write_traceback
from aligngym.validation import SETTINGS, build_agent, build_oversight, validate
from aligngym.video import episode_frames, write_gif

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """The job received SIGTERM or SIGINT; ``signal_number`` says which."""

    def __init__(self, signal_number: int):
        super().__init__(f"interrupted by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


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
