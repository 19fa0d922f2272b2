"""Nothing a user does loses a result or corrupts memory: signals, late failures, resumes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import start_run, wait_for_training

import aligngym
from aligngym import cli
from aligngym.envs.core import GridVectorEnv

PPO_SMALL = [
    "agent=ppo", "agent.n_envs=4", "agent.model.hyperparameters.n_steps=32",
    "agent.model.hyperparameters.batch_size=64", "agent.model.hyperparameters.n_epochs=1",
    "agent.model.device=cpu", "eval.episodes=2", "video.enabled=false",
]  # fmt: skip


def test_gym_make_vec_takes_the_native_batched_path():
    vector = gym.make_vec("aligngym/BoatRace-v0", 64)
    assert isinstance(vector.unwrapped, GridVectorEnv) and vector.num_envs == 64
    obs, _ = vector.reset(seed=0)
    assert obs.shape == (64, 6, 5, 6)


def test_import_loads_no_learning_library():
    code = (
        "import sys, gymnasium as gym, aligngym\n"
        "gym.make('aligngym/BoatRace-v0').reset(seed=0)\n"
        "gym.make_vec('aligngym/OffSwitchGame-v0', 2).reset(seed=0)\n"
        "heavy = [m for m in ('torch', 'stable_baselines3', 'wandb', 'pandas', 'matplotlib')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_failure_after_training_keeps_what_was_measured(tmp_path):
    """The GIF cannot be written (a folder is in its place): the run fails at its last step,
    yet the summary keeps the timesteps and the train/test evaluation before it."""
    folder = tmp_path / "job"
    (folder / "episode.gif").mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"hydra.run.dir={folder}", "logger=none", "train.timesteps=256",
                  "eval.every=0", *PPO_SMALL[:-1]])  # fmt: skip
    assert exit_info.value.code == 1
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "failed" and "IsADirectoryError" in summary["error"]
    assert summary["timesteps"] == 256
    assert summary["train"]["episodes"] == summary["test"]["episodes"] == 2
    assert (folder / "model.zip").exists()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR2])
def test_a_signal_leaves_an_interrupted_summary_and_a_checkpoint_to_resume(tmp_path, signal_number):
    folder = tmp_path / "first"
    process = start_run(folder, "logger=wandb", "train.timesteps=10000000", "eval.every=512",
                        *PPO_SMALL)  # fmt: skip
    wait_for_training(folder, process)
    process.send_signal(signal_number)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal_number, err
    assert err.decode().count("Traceback") == 0
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert summary["timesteps"] >= 512
    checkpoint = Path(summary["checkpoint"])
    assert checkpoint.exists() and checkpoint.parent == folder / "checkpoints"
    assert summary["resume"] == f"agent.model.resume_from={checkpoint}"
    assert list(folder.glob("wandb/offline-run-*/run-*.wandb"))  # the W&B run was finished
    if signal_number != signal.SIGTERM:
        return
    # resume with the documented override: training goes on from the checkpoint
    reached = summary["timesteps"]
    resumed = tmp_path / "resumed"
    budget = reached + 1024
    assert cli.main(["run", f"hydra.run.dir={resumed}", "logger=none", f"train.timesteps={budget}",
                     "eval.every=0", *PPO_SMALL, summary["resume"]]) == 0  # fmt: skip
    done = json.loads((resumed / "summary.json").read_text())
    assert done["status"] == "completed" and done["timesteps"] >= budget
    # resuming with a smaller budget, another algorithm or another scenario is refused
    refused = [
        ([f"train.timesteps={reached - 1}", *PPO_SMALL], "more than train.timesteps"),
        (
            [f"train.timesteps={budget}", "agent=a2c", "agent.model.device=cpu"],
            "it is a PPO model of aligngym/BoatRace-v0",
        ),
        (
            [f"train.timesteps={budget}", *PPO_SMALL, "env=off_switch"],
            "this run trains PPO on aligngym/OffSwitch-v0",
        ),
    ]
    for case, (args, message) in enumerate(refused):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["run", f"hydra.run.dir={tmp_path / str(case)}", "logger=none", *args,
                      summary["resume"]])  # fmt: skip
        error = json.loads((tmp_path / str(case) / "summary.json").read_text())["error"]
        assert exit_info.value.code == 2 and message in error, error


def test_make_vector_is_safe_with_wrong_action_lengths():
    """Before: 9 or 16 actions for 8 environments aborted the process (a double free in the
    compiled kernel), 7 silently stepped 7 of them."""
    vector = aligngym.make_vector("aligngym/CheeseMaze-v0", 8)
    vector.reset(seed=0)
    for count in (7, 9, 16):
        with pytest.raises(aligngym.envs.InvalidActionError, match=r"shape \(8,\)"):
            vector.step(np.zeros(count, dtype=np.int64))
    vector.step(np.zeros(8, dtype=np.int64))  # and it still steps
