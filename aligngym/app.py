"""The Hydra application behind ``aligngym run``.

The configs ship inside the package (``aligngym.conf``), so the app works from any directory;
run folders go under ``runs/`` relative to the directory it is started from (``runs_root``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from aligngym.experiment import SetupError, run_experiment
from aligngym.run_logging import MissingDependencyError


@hydra.main(version_base="1.3", config_path="pkg://aligngym.conf", config_name="config")
def main(cfg: DictConfig) -> dict[str, Any] | None:
    """Runs one job. In a sweep (``-m``) a failing job is recorded and the sweep goes on; a
    single run that fails exits non-zero (2 for bad input found before any work started)."""
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        return run_experiment(
            cfg, folder, raise_errors=not in_sweep, overrides=list(hydra_cfg.overrides.task)
        )
    except (SetupError, MissingDependencyError) as error:
        print(f"aligngym run: error: {error}", file=sys.stderr)
        sys.exit(2)
