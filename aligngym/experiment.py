"""The experiment loop: validate, train with periodic evaluation, save, summarise.

:func:`run_experiment` is what one ``aligngym run`` job does.

What a job measures is never lost: the summary is written (atomically) as soon as the final
evaluation is done, a failure in a later step (the episode GIF) keeps it, and SIGINT, SIGTERM
(what SLURM sends at a time limit) or SIGUSR2 (what SLURM sends, through submitit,
``hydra.launcher.signal_delay_s`` before the limit) save the agent as a checkpoint and leave a
summary with status ``interrupted``, the timesteps reached and the checkpoint to resume from.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from aligngym.agents.base import (
    Agent,
    ReadsTrueState,
    ReportsMetrics,
    TrainingMonitor,
    recording,
)
from aligngym.agents.transcript import (
    KeepsTranscript,
    Transcript,
    episode_excerpt,
    last_label,
    read_transcript,
)
from aligngym.envs.core.metrics import EpisodeRecord, summarize
from aligngym.envs.registry import make_vector
from aligngym.monitoring import EvaluationMonitor
from aligngym.run_logging import RunLog, print_summary, write_summary, write_traceback
from aligngym.validation import SETTINGS, build_agent, build_oversight, validate
from aligngym.video import episode_frames, write_gif

log = logging.getLogger(__name__)

# the signals that stop a job cleanly: Ctrl-C, `kill` or SLURM's time limit, and SLURM's warning
# before the time limit (the hydra/launcher=slurm job's sbatch has --signal=USR2@<delay>)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)
# what Hydra's override grammar reads as plain text in an unquoted value
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_/.+@%-]*")


class Interrupted(Exception):
    """The job received one of :data:`STOP_SIGNALS`; ``signal_number`` says which."""

    def __init__(self, signal_number: int):
        super().__init__(f"interrupted by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


@contextlib.contextmanager
def interruptible(received: list[int]) -> Iterator[None]:
    """Turns :data:`STOP_SIGNALS` into :class:`Interrupted` while the block runs (main thread
    only: Python delivers signals there) and appends each to ``received`` (see
    :class:`SignalCheck`), restoring the previous handlers after (in a submitit job,
    submitit's: it would raise on SIGUSR2 and ignores SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signal_number: int, frame: Any) -> None:
        received.append(signal_number)
        raise Interrupted(signal_number)

    previous = {sig: signal.signal(sig, interrupt) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class SignalCheck:
    """The training monitor an agent reports to: passes every call on to ``monitor`` and,
    after each training step, raises :class:`Interrupted` again once a stop signal was
    received.

    The signal handler raises wherever the main thread is, and C code that calls back into
    Python and then clears any error swallows it: numpy does, checking for ctypes when it
    builds a dtype (the tabular agent's lookups, every step); the job would train on as if
    no signal had come.
    """

    def __init__(self, monitor: TrainingMonitor, received: list[int]):
        self.monitor = monitor
        self.received = received

    def on_step(self, timesteps: int, episodes: list[EpisodeRecord]) -> None:
        """Reports the step, then raises a received stop signal."""
        self.monitor.on_step(timesteps, episodes)
        if self.received:
            raise Interrupted(self.received[0])

    def on_metrics(self, metrics: Mapping[str, float]) -> None:
        """Reports the learner's own figures."""
        self.monitor.on_metrics(metrics)


def resume_override(checkpoint: Path) -> str:
    """The override that resumes from ``checkpoint``, its path in double quotes where Hydra would
    read part of it as syntax (a sweep job's folder name holds ``=`` and ``,``)."""
    path = str(checkpoint)
    if not PLAIN_VALUE.fullmatch(path):
        path = '"' + path.replace('"', '\\"') + '"'
    return f"agent.model.resume_from={path}"


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
            "judge": (cfg.get("judge") or {}).get("name"),
            "seed": cfg.get("seed"),
            "overrides": self.overrides,
            "timesteps": 0,
        }
        self.run_log: RunLog | None = None
        self.agent: Agent | None = None
        self.monitor: EvaluationMonitor | None = None
        #: the stop signals received while the job runs (:func:`interruptible`)
        self.received: list[int] = []

    def run(self) -> None:
        """Validates, trains, evaluates, saves; updates :attr:`summary` as it measures."""
        spec = validate(self.cfg)
        if spec.kind == "multi":
            from aligngym.games import run_games

            run_games(self, spec)
            return
        if spec.kind == "dataset":
            from aligngym.studies import run_study

            run_study(self, spec)
            return
        agent = self.agent = build_agent(self.cfg, spec)
        oversight = build_oversight(self.cfg, spec)
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
        agent.learn(env, spec.timesteps, SignalCheck(monitor, self.received))
        env.close()
        records = monitor.finish()
        self.summary.update(
            timesteps=monitor.timesteps,
            training_episodes=monitor.training_episodes,
            model=Path(agent.save(self.folder / "model")).name,
            oversight_role=oversight.role,
            oversight_metrics=oversight.metrics(),
            **{name: summarize(records[name]) for name in SETTINGS},
        )
        if isinstance(agent, ReportsMetrics):
            self.summary["agent_metrics"] = agent.metrics()
        self.run_log.write_summary({**self.summary, "status": "running"})
        if isinstance(agent, KeepsTranscript):
            self._keep_transcript(agent.transcript)
        if self.cfg.video.enabled:
            frames = episode_frames(agent, spec.env_id, spec.setting("test"), seed=spec.eval_seed)
            gif = write_gif(frames, self.folder / "episode.gif", fps=self.cfg.video.fps)
            self.run_log.log_video(gif, fps=self.cfg.video.fps)
            self.summary["video"] = gif.name

    def _keep_transcript(self, transcript: Transcript) -> None:
        """Writes ``transcript.md`` (the first episode of the final test evaluation, readable)
        and logs the final evaluations' decisions to W&B as a table."""
        transcript.close()
        if transcript.path is None or not transcript.path.is_file():
            return
        records = list(read_transcript(transcript.path))
        final = [last_label(records, f"eval/{name}@") for name in SETTINGS]
        test = final[-1]
        if test is not None:
            excerpt = episode_excerpt(records, test)
            (self.folder / "transcript.md").write_text(excerpt, encoding="utf-8")
            self.summary["transcript"] = "transcript.md"
        self.run_log.log_transcript([r for r in records if r["label"] in final])

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
            self.summary["resume"] = resume_override(checkpoint)
        self._write(exit_code=128 + number)
        message = f"run interrupted at {self.summary['timesteps']} timesteps"
        if checkpoint is not None:
            message += f"; resume with the same overrides and {shlex.quote(self.summary['resume'])}"
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
    sweep. SIGUSR2, SLURM's warning of a job's time limit, does the same in a single run; a
    job of a sweep returns its summary instead: the process runs that one job for submitit,
    which reports a job that exits without a result as lost (or, on a cluster without
    accounting, waits for it forever), and the sweep counts it as not completed.
    """
    job = Job(cfg, folder, overrides)
    try:
        with interruptible(job.received):
            job.run()
    except (Interrupted, KeyboardInterrupt) as error:
        code = job.interrupted(error)
        if raise_errors or code != 128 + signal.SIGUSR2:
            raise SystemExit(code) from None
        return job.summary
    except BaseException as error:
        job.failed(error)
        if raise_errors or not isinstance(error, Exception):
            raise
        return job.summary
    job.completed()
    return job.summary
