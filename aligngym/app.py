"""The Hydra application behind ``aligngym run``.

The configs ship inside the package (``aligngym.conf``), so the app works from any directory;
run folders go under ``runs/`` relative to the directory it is started from (``runs_root``).

Three things here serve sweeps (``-m``):

- **One sweep is one folder.** Hydra resolves ``hydra.sweep.dir`` once for the sweep and again
  in every job, with that job's config. The folder's name therefore uses
  ``${aligngym.sweep_name:${name},${env.name}}`` (:func:`sweep_name`), a cached resolver like
  Hydra's own ``${now:...}``: Hydra copies the sweep config's resolver cache into every job's
  config (the pickled config carries it to joblib or submitit workers), so every job gets
  the value the sweep config gave, whatever the job itself sweeps over.
- **The objective.** :func:`main` returns one float, the summary figure named by the config's
  ``objective`` (``test/performance_mean`` by default), which is what the Optuna sweeper
  optimises. A failed job returns the worst value for the sweeper's ``direction`` (``-inf``
  when maximising, ``+inf`` when minimising; NaN under sweepers without a direction) so the
  study records it and goes on.
- **Failed jobs.** :class:`SweepRecorder` (a Hydra callback, ``hydra.callbacks`` in
  conf/config.yaml) notes the sweep folder when a sweep starts; :func:`count_failed_jobs`
  then reads every job's ``summary.json`` there, so it also counts jobs that a launcher ran in
  other processes or on other machines. ``aligngym run`` exits 1 when every job failed.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from aligngym.envs.core.metrics import SUMMARY_STATS
from aligngym.experiment import run_experiment
from aligngym.run_logging import MissingDependencyError
from aligngym.scenario_configs import store_scenario_configs
from aligngym.validation import SETTINGS, SetupError

log = logging.getLogger(__name__)

# every scenario's settings as `scenario/<name>` configs, which the env configs extend
store_scenario_configs()

# the sweep folder's name when the sweep config's `name` is not a fixed word
SWEEP_WORD = "sweep"
# what a failed job scores, per Optuna direction (optuna 2.x refuses NaN: its sweeper stops)
WORST = {"maximize": -math.inf, "minimize": math.inf}


def sweep_name(name: Any, env_name: Any) -> str:
    """The name part of a sweep folder: the config's ``name`` where an experiment or a
    ``name=...`` override set it (it differs from ``env.name``), else :data:`SWEEP_WORD`.

    Used as ``${aligngym.sweep_name:${name},${env.name}}``. The default ``name`` is
    ``${env.name}``, which differs between the jobs of ``-m env=boat_race,off_switch``.
    Registered with ``use_cache=True``: OmegaConf caches a resolver's result under its
    arguments' text, and Hydra copies the sweep config's cache into every job's config, so
    every job reuses the sweep config's answer (as it does for ``${now:...}``).
    """
    if not name or name == env_name:
        return SWEEP_WORD
    return str(name).replace("/", "_")


OmegaConf.register_new_resolver("aligngym.sweep_name", sweep_name, use_cache=True, replace=True)


@dataclass
class SweepRecord:
    """Where the sweep in progress writes, and when it started (seconds since the epoch)."""

    folder: Path
    started: float


# the sweep started last in this process (set by SweepRecorder, read by `aligngym run`)
LAST_SWEEP: SweepRecord | None = None


class SweepRecorder(Callback):
    """Hydra callback: records the sweep folder in :data:`LAST_SWEEP` when a sweep starts, and
    saves ``multirun.yaml`` there for sweepers that do not (Optuna's)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Called in the launching process before the sweeper and launcher start."""
        global LAST_SWEEP
        folder = Path(str(config.hydra.sweep.dir))
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "multirun.yaml"
        if not marker.exists():
            OmegaConf.save(config, marker)
        LAST_SWEEP = SweepRecord(folder=folder, started=time.time())


def count_failed_jobs(folder: Path, since: float | None = None) -> tuple[int, int]:
    """``(failed, total)`` over the jobs of a sweep folder.

    A job is a folder below it with Hydra's ``.hydra/overrides.yaml`` (written before the job
    runs) or a ``summary.json``; with ``since``, only jobs that started from then on count (1 s
    of slack for coarse file times), so older jobs of a reused folder are left out. A job
    failed unless its ``summary.json`` reads ``"status": "completed"``: a missing or unreadable
    summary is a failure too (a job killed before it could write one).
    """
    folder = Path(folder)
    started = {path.parent.parent: path for path in folder.rglob(".hydra/overrides.yaml")}
    for path in folder.rglob("summary.json"):
        started.setdefault(path.parent, path)
    failed = total = 0
    for job, marker in started.items():
        if since is not None and marker.stat().st_mtime < since - 1.0:
            continue
        total += 1
        failed += _job_status(job) != "completed"
    return failed, total


def _job_status(job: Path) -> str:
    try:
        summary = json.loads((job / "summary.json").read_text())
    except (OSError, ValueError):
        return "unreadable"
    return str(summary.get("status")) if isinstance(summary, dict) else "unreadable"


def objective_path(objective: Any) -> tuple[str, ...]:
    """Checks an ``objective`` and returns its path in summary.json; raises :class:`SetupError`.

    Accepted: ``<train|test>/<stat>`` (a statistic of the setting: one of SUMMARY_STATS),
    ``<train|test>/events/<event>``, ``oversight/<name>`` (from the summary's
    ``oversight_metrics``).
    """
    parts = tuple(str(objective).split("/")) if isinstance(objective, str) else ()
    stats = SUMMARY_STATS
    if len(parts) == 2 and parts[0] in SETTINGS and parts[1] in stats:
        return parts
    if len(parts) == 3 and parts[0] in SETTINGS and parts[1] == "events" and parts[2]:
        return parts
    if len(parts) == 2 and parts[0] == "oversight" and parts[1]:
        return ("oversight_metrics", str(objective))
    raise SetupError(
        f"objective={objective!r} is not a summary figure; accepted: <train|test>/<stat> with "
        f"<stat> one of {', '.join(stats)}; <train|test>/events/<event>; oversight/<name>"
    )


def objective_value(summary: dict[str, Any], path: tuple[str, ...], worst: float) -> float:
    """The figure at ``path`` in a completed summary, else ``worst``."""
    if summary.get("status") != "completed":
        return worst
    value: Any = summary
    for key in path:
        if not isinstance(value, dict) or key not in value:
            log.warning("objective %s is not in the summary; the job scores %s", path, worst)
            return worst
        value = value[key]
    try:
        value = float(value)
    except (TypeError, ValueError):
        return worst
    return worst if math.isnan(value) else value


def worst_value(hydra_cfg: Any) -> float:
    """What a failed job scores: the worst value for the sweeper's ``direction``, else NaN."""
    direction = OmegaConf.select(hydra_cfg, "sweeper.direction", default=None)
    direction = getattr(direction, "name", direction)  # the plugin's Direction enum, or a str
    return WORST.get(str(direction).lower(), math.nan)


@hydra.main(version_base="1.3", config_path="pkg://aligngym.conf", config_name="config")
def main(cfg: DictConfig) -> float:
    """Runs one job and returns its objective (see the module docstring). In a sweep (``-m``)
    a failing job is recorded and the sweep goes on; a single run that fails exits non-zero
    (2 for bad input found before any work started)."""
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        path = objective_path(cfg.get("objective"))
        summary = run_experiment(
            cfg, folder, raise_errors=not in_sweep, overrides=list(hydra_cfg.overrides.task)
        )
    except (SetupError, MissingDependencyError) as error:
        print(f"aligngym run: error: {error}", file=sys.stderr)
        sys.exit(2)
    return objective_value(summary, path, worst_value(hydra_cfg))
