"""Debaters trained by self-play: learning from the judge's verdicts, checkpoints that resume,
and training through the runner."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
import torch
from conftest import start_run, wait_for_training

import aligngym
from aligngym import cli
from aligngym.agents.base import EpisodeLog
from aligngym.agents.debate.selfplay import SelfPlayDebater
from aligngym.oversight.debate.pixel_judge import PixelJudge

ENV_ID = "aligngym/PixelDebate-v0"


@pytest.fixture(scope="module")
def judge():
    return PixelJudge(ENV_ID, {"moves": 6})


def debate():
    return aligngym.make(ENV_ID, protocol="debate")


@pytest.mark.usefixtures("one_torch_thread")
def test_learning_reports_every_game_and_changes_the_policy(judge):
    debater = SelfPlayDebater(ENV_ID, seed=1, batch_games=32)
    before = [p.detach().clone() for p in debater.policy.parameters()]
    log = EpisodeLog()
    debater.learn(debate, judge, 96, log)
    assert log.timesteps == [32, 64, 96] and len(log.episodes) == 96
    assert {"losses/policy_loss", "losses/entropy"} <= set(log.metrics[-1])
    assert debater.games_trained == 96
    assert any(not torch.equal(a, b) for a, b in zip(before, debater.policy.parameters()))
    # evaluation plays the most likely legal move, the same every time
    env = debate()
    env.reset(seed=5)
    move = debater.act(env, env.agent_selection, judge)
    assert move in env.legal_moves(env.agent_selection)
    assert debater.act(env, env.agent_selection, judge) == move


@pytest.mark.usefixtures("one_torch_thread")
def test_a_checkpoint_resumes_the_policy_and_its_games(judge, tmp_path):
    debater = SelfPlayDebater(ENV_ID, seed=2, batch_games=16)
    debater.learn(debate, judge, 32, None)
    path = debater.save(tmp_path / "checkpoint")
    resumed = SelfPlayDebater(ENV_ID, seed=9, resume_from=str(path))
    assert resumed.resumed_timesteps == 32
    view = torch.as_tensor(debate().observation_space("honest").sample())
    torch.testing.assert_close(resumed.policy(view), debater.policy(view))


def test_bad_settings_and_scenarios_are_refused():
    with pytest.raises(ValueError, match="reward must be one of"):
        SelfPlayDebater(ENV_ID, reward="points")
    with pytest.raises(ValueError, match="flat observations"):
        SelfPlayDebater("aligngym/EvidenceDebate-v0")


@pytest.mark.usefixtures("one_torch_thread")
def test_the_runner_trains_self_play_debaters_and_logs_training_rows(tmp_path):
    overrides = ["env=pixel_debate", "agent=selfplay_debater", "train.timesteps=256",
                 "eval.every=128", "eval.episodes=20", "logger=none"]  # fmt: skip
    assert cli.main(["run", f"runs_root={tmp_path}", *overrides]) == 0
    (folder,) = [p.parent for p in tmp_path.glob("*/*/.hydra")]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["timesteps"] == 256
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["timesteps"] for row in rows] == [128, 256, 256]
    assert "losses/policy_loss" in rows[0] and 0 <= rows[0]["charts/episodic_performance"] <= 1
    assert np.isfinite(rows[-1]["eval/test/performance_mean"])
    assert torch.load(folder / "model.pt", weights_only=False)["settings"]["games_trained"] == 256


def test_sigterm_mid_training_leaves_a_checkpoint_that_resumes(tmp_path):
    env = {"OMP_NUM_THREADS": "1"}
    folder = tmp_path / "first"
    overrides = ["env=pixel_debate", "agent=selfplay_debater", "eval.every=64",
                 "eval.episodes=10", "logger=none"]  # fmt: skip
    process = start_run(folder, *overrides, "train.timesteps=1000000", env=env)
    wait_for_training(folder, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["timesteps"] >= 64
    rows = (folder / "metrics.jsonl").read_text().splitlines()
    assert json.loads(rows[0])["timesteps"] == 64  # what was measured is kept
    budget = summary["timesteps"] + 64
    resumed = tmp_path / "resumed"
    assert cli.main(["run", f"hydra.run.dir={resumed}", *overrides, f"train.timesteps={budget}",
                     summary["resume"]]) == 0  # fmt: skip
    done = json.loads((resumed / "summary.json").read_text())
    assert done["status"] == "completed" and done["timesteps"] == budget
