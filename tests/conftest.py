"""Fixtures shared by the tests: Hydra's configs composed as ``aligngym run`` does, one torch
thread for the tests that train small networks, and ``aligngym run`` as a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra

CONF = Path(__file__).resolve().parent.parent / "conf"


@pytest.fixture
def hydra_conf():
    """Hydra initialised on ``aligngym.conf``, as ``aligngym run`` is; ``compose`` works."""
    import aligngym.app  # noqa: F401 (as in `aligngym run`: stores the configs env/ extends)

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="aligngym.conf", version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def config_options(group: str) -> list[str]:
    """The options of a config group shipped under conf/, e.g. ``experiment``."""
    root = CONF / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


@pytest.fixture
def one_torch_thread():
    """Small MLPs train fastest on one thread, above all on a machine shared by test workers."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def start_run(folder: Path, *overrides: str) -> subprocess.Popen:
    """Starts ``aligngym run`` into ``folder`` as a child process (W&B offline)."""
    command = [sys.executable, "-m", "aligngym", "run", f"hydra.run.dir={folder}", *overrides]
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def wait_for_training(folder: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Waits until the run has logged an evaluation row: it is training."""
    metrics, deadline = folder / "metrics.jsonl", time.monotonic() + timeout
    while not (metrics.exists() and metrics.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run did not start training"
        time.sleep(0.2)
