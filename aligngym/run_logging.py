"""What a run writes: the run folder's files and the (offline) W&B run.

Run folder layout::

    config.yaml      the resolved config
    metrics.jsonl    one JSON row per evaluation (the metric names of W&B)
    summary.json     final train/test summaries, status, and the error of a failed run
    traceback.txt    the traceback of a failed run
    model.*          the saved agent
    episode.gif      one evaluation episode on the test setting
    transcript.jsonl every decision of an agent that keeps a transcript (an LLM agent)
    transcript.md    a readable excerpt of it: the first test-evaluation episode
    wandb/           the W&B run (offline by default; ``wandb sync`` uploads it)
"""

from __future__ import annotations

import importlib
import json
import math
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

#: the columns of the W&B transcript table (:mod:`aligngym.agents.transcript`'s record keys)
TRANSCRIPT_COLUMNS = (
    "label", "step", "env", "system", "prompt", "actions", "scores", "generation", "reasoning",
    "action_name", "valid",
)  # fmt: skip


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the pip command."""


def require(module: str, install: str) -> Any:
    """Imports ``module`` or raises :class:`MissingDependencyError` saying ``pip install ...``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"{module} is not installed; install it with `pip install {install}`"
        ) from error


def _json_value(value: Any) -> Any:
    """Non-finite floats become ``None`` so that every row is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunLog:
    """Writes one run's files and mirrors its metrics to W&B.

    Args:
        folder: the run folder (created if missing).
        config: the run's config; written resolved to ``config.yaml`` and handed to W&B.
        logger: the ``logger`` config group (``name: wandb`` or ``name: none``).
    """

    def __init__(self, folder: Path, config: DictConfig, logger: Mapping[str, Any]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = OmegaConf.to_container(config, resolve=True)
        (self.folder / "config.yaml").write_text(OmegaConf.to_yaml(self.config))
        self.metrics_path = self.folder / "metrics.jsonl"
        self.metrics_path.write_text("")
        self.wandb_run = None
        if logger.get("name", "none") == "wandb":
            self.wandb_run = self._init_wandb(logger)

    def _init_wandb(self, logger: Mapping[str, Any]):
        wandb = require("wandb", "wandb")
        run = wandb.init(
            mode=logger.get("mode", "offline"),
            project=logger.get("project", "aligngym"),
            entity=logger.get("entity"),
            group=logger.get("group"),
            job_type=logger.get("job_type"),
            tags=list(logger.get("tags") or []),
            name=self.folder.name,
            dir=str(self.folder),
            config=self.config,
            reinit="finish_previous",
        )
        run.define_metric("timesteps")
        run.define_metric("*", step_metric="timesteps")
        return run

    def log_row(self, row: Mapping[str, Any]) -> None:
        """Appends one evaluation row to ``metrics.jsonl`` and logs it to W&B."""
        clean = {key: _json_value(value) for key, value in row.items()}
        with self.metrics_path.open("a") as file:
            file.write(json.dumps(clean) + "\n")
        if self.wandb_run is not None:
            self.wandb_run.log(dict(row))

    def log_video(self, path: Path, fps: float) -> None:
        """Logs the episode GIF to W&B as a video file."""
        if self.wandb_run is not None:
            wandb = require("wandb", "wandb")
            self.wandb_run.log({"videos/episode": wandb.Video(str(path), fps=fps, format="gif")})

    def log_transcript(
        self, records: Sequence[Mapping[str, Any]], columns: Sequence[str] = TRANSCRIPT_COLUMNS
    ) -> None:
        """Logs transcript records to W&B as the table ``transcript`` (one row a decision, or a
        debate game), with ``columns`` taken from each record."""
        if self.wandb_run is not None and records:
            wandb = require("wandb", "wandb")
            columns = list(columns)
            rows = [[_table_cell(record.get(column)) for column in columns] for record in records]
            self.wandb_run.log({"transcript": wandb.Table(columns=columns, data=rows)})

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        """Writes ``summary.json`` and copies its scalars into the W&B run summary."""
        if self.wandb_run is not None:
            for key, value in _flatten(summary).items():
                self.wandb_run.summary[key] = value
        return write_summary(self.folder, summary)

    def finish(self, exit_code: int = 0) -> None:
        """Finishes the W&B run with the job's exit code: 0 completed, 1 failed, 128 + the
        signal number interrupted (W&B marks every non-zero code as failed)."""
        if self.wandb_run is not None:
            run, self.wandb_run = self.wandb_run, None
            run.finish(exit_code=exit_code)


def _table_cell(value: Any) -> Any:
    """A W&B table cell: text, a number or a bool as they are; anything else as JSON."""
    plain = value is None or isinstance(value, (str, int, float, bool))
    return value if plain else json.dumps(value)


def write_summary(folder: Path, summary: Mapping[str, Any]) -> Path:
    """Writes ``summary.json`` into ``folder`` atomically (:func:`write_atomic`): a reader, or
    a crash mid-write, sees the previous summary or the new one, never a part of one."""
    text = json.dumps(summary, indent=2) + "\n"
    return write_atomic(Path(folder) / "summary.json", text)


def write_traceback(folder: Path, text: str) -> Path:
    """Writes the traceback of a failed run to ``traceback.txt`` in ``folder`` atomically."""
    return write_atomic(Path(folder) / "traceback.txt", text)


def write_atomic(path: Path, text: str) -> Path:
    """Replaces ``path`` with ``text`` in one step.

    The text goes to a temporary file in the same folder (so that the rename stays on one
    file system), is flushed and fsynced, and then ``os.replace`` puts it in place; the
    folder is fsynced too where the platform allows, so that the rename survives a power
    cut. On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of our own with open(..., "x") rather than mkstemp, whose files are private (0600):
    # the summary gets the permissions of any other file the run writes
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    file = open(temporary, "x", encoding="utf-8")  # noqa: SIM115 (closed below)
    try:
        with file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders cannot be opened
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"failure_rate": 1}}`` -> ``{"train/failure_rate": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def summary_table(summary: Mapping[str, Any]) -> Table:
    """The end-of-run table: observed return, true performance, failure rate per setting."""
    title = f"{summary['scenario']}  {summary['agent']}  seed {summary['seed']}"
    table = Table(title=title)
    table.add_column("setting")
    table.add_column("episodes", justify="right")
    table.add_column("observed return", justify="right")
    table.add_column("true performance", justify="right")
    table.add_column("failure rate", justify="right")
    for setting in ("train", "test"):
        s = summary[setting]
        table.add_row(
            setting,
            str(s["episodes"]),
            f"{s['return_mean']:.2f} ± {s['return_std']:.2f}",
            f"{s['performance_mean']:.2f} ± {s['performance_std']:.2f}",
            f"{s['failure_rate']:.2f}",
        )
    return table


def print_summary(summary: Mapping[str, Any], console: Console | None = None) -> None:
    """Prints :func:`summary_table`."""
    (console or Console()).print(summary_table(summary))
