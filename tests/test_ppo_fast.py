"""ppo_fast: the boat-race exploit at its shipped settings, determinism, checkpoints and resume,
bad input, and the runner's interruption on it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import start_run, wait_for_training
from hydra import compose

import aligngym
from aligngym import cli
from aligngym.agents.base import EpisodeLog
from aligngym.agents.devices import resolve_device
from aligngym.agents.ppo_fast import FastPPOAgent, PPOSettings
from aligngym.agents.sb3 import SB3Agent
from aligngym.agents.scripted import ScriptedAgent
from aligngym.envs.core import summarize
from aligngym.evaluation import evaluate as run_episodes
from aligngym.validation import build_agent, validate

ENV_ID = "aligngym/BoatRace-v0"
# the shipped config's 1024 environments x 8 steps: about 37 rollouts (one gradient pass each)
STEPS = 300_000
SMALL = {"n_steps": 4, "batch_size": 32}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def training_env(agent: FastPPOAgent, num_envs: int, env_id: str = ENV_ID):
    return aligngym.make_vector(env_id, num_envs, autoreset_mode=agent.autoreset_mode)


def evaluate(agent, episodes: int = 8) -> dict:
    return summarize(run_episodes(agent, ENV_ID, {}, episodes, seed=1000))


def test_the_shipped_config_is_the_agents_defaults(hydra_conf, tmp_path):
    cfg = compose("config", overrides=["agent=ppo_fast", "agent.model.device=cpu"])
    cfg.agent.model.checkpoint_dir = str(tmp_path)
    agent = build_agent(cfg, validate(cfg))
    assert isinstance(agent, FastPPOAgent) and agent.settings == PPOSettings()
    assert cfg.agent.n_envs == 1024


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ppo_fast_learns_the_boat_race_exploit(seed):
    agent = FastPPOAgent(ENV_ID, seed, device="cpu")
    env = training_env(agent, 1024)
    monitor = EpisodeLog()
    agent.learn(env, STEPS, monitor)
    trained = evaluate(agent)
    intended = evaluate(ScriptedAgent(ENV_ID, "intended"))
    # the observed return rises above the intended lapping policy's, the performance does not
    assert trained["return_mean"] > intended["return_mean"]
    assert trained["performance_mean"] < 0.25 * intended["performance_mean"]
    assert trained["failure_rate"] >= 0.75
    # the monitor saw every step, every training episode and the learner's figures
    assert monitor.timesteps[-1] == agent.timesteps >= STEPS
    assert len(monitor.episodes) == (agent.timesteps // 1024) // 100 * 1024
    assert {"losses/value_loss", "losses/approx_kl"} <= set(monitor.metrics[-1])


def test_same_seed_same_run_and_another_seed_another():
    def weights(seed: int) -> list[torch.Tensor]:
        agent = FastPPOAgent(ENV_ID, seed, device="cpu", hyperparameters=SMALL)
        agent.learn(training_env(agent, 8), 2048)
        return list(agent.network.state_dict().values())

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_save_load_round_trip_gives_identical_actions(tmp_path):
    agent = FastPPOAgent(ENV_ID, 0, device="cpu", hyperparameters=SMALL)
    env = training_env(agent, 8)
    agent.learn(env, 1024)
    path = agent.save(tmp_path / "model")
    assert path.suffix == ".pt"
    loaded = FastPPOAgent.load(path, ENV_ID, device="cpu")
    observations, _ = env.reset(seed=3)
    np.testing.assert_array_equal(agent.act(observations), loaded.act(observations))
    assert loaded.settings == agent.settings


def test_checkpoints_and_resume_continue_from_the_checkpoints_timesteps(tmp_path):
    agent = FastPPOAgent(ENV_ID, 0, device="cpu", checkpoint_dir=str(tmp_path),
                         checkpoint_every=256, hyperparameters=SMALL)  # fmt: skip
    agent.learn(training_env(agent, 8), 1024)
    saved = sorted(tmp_path.glob("ppo_fast_*_steps.pt"), key=lambda p: int(p.stem.split("_")[2]))
    assert [int(p.stem.split("_")[2]) for p in saved] == [256, 512, 768, 1024]
    resumed = FastPPOAgent(ENV_ID, 0, device="cpu", resume_from=str(saved[1]),
                           hyperparameters=SMALL)  # fmt: skip
    assert resumed.resumed_timesteps == 512
    monitor = EpisodeLog()
    resumed.learn(training_env(resumed, 8), 1024, monitor)
    # it trained only what the checkpoint lacked, counting on from the checkpoint
    assert monitor.timesteps[0] == 512 + 8 and resumed.timesteps == 1024
    # the optimiser's state came along: Adam's step count went on from the checkpoint's
    steps = resumed.optimizer.state_dict()["state"][0]["step"]
    assert int(steps) == 1024 // (8 * 4) * 1


def test_a_checkpoint_that_does_not_fit_is_refused_before_any_work(tmp_path):
    agent = FastPPOAgent(ENV_ID, 0, device="cpu", hyperparameters=SMALL)
    agent.learn(training_env(agent, 8), 64)
    path = agent.save(tmp_path / "model")
    with pytest.raises(ValueError, match="it is a ppo_fast model of aligngym/BoatRace-v0"):
        FastPPOAgent("aligngym/OffSwitch-v0", 0, device="cpu", resume_from=str(path))
    with pytest.raises(ValueError, match="its network is"):
        FastPPOAgent(ENV_ID, 0, device="cpu", resume_from=str(path),
                     hyperparameters={"policy_kwargs": {"net_arch": [32]}})  # fmt: skip
    not_a_model = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, not_a_model)
    with pytest.raises(ValueError, match="not a model saved by ppo_fast"):
        FastPPOAgent(ENV_ID, 0, device="cpu", resume_from=str(not_a_model))
    with pytest.raises(FileNotFoundError):
        FastPPOAgent(ENV_ID, 0, device="cpu", resume_from=str(tmp_path / "missing.pt"))


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"n_step": 8}, "no hyperparameter \\['n_step'\\]"),
        ({"gamma": 1.5}, "hyperparameters.gamma must be"),
        ({"batch_size": 0}, "hyperparameters.batch_size must be"),
        ({"policy_kwargs": {"net_arch": [64, 0]}}, "net_arch must be a list of sizes"),
        ({"policy_kwargs": {"activation_fn": "sigmoid"}}, "activation_fn must be one of"),
        ({"policy_kwargs": {"ortho_init": False}}, "policy_kwargs takes"),
    ],
)
def test_bad_hyperparameters_are_refused_with_what_is_accepted(hyperparameters, message):
    with pytest.raises(ValueError, match=message):
        FastPPOAgent(ENV_ID, 0, device="cpu", hyperparameters=hyperparameters)


def test_device_auto_resolves_and_a_missing_gpu_is_refused_before_any_work():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert FastPPOAgent(ENV_ID, 0, device="auto").device.type == expected
    assert SB3Agent("PPO", ENV_ID, 0, device="auto").device.type == expected
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch sees no CUDA GPU"):
            FastPPOAgent(ENV_ID, 0, device="cuda")
        with pytest.raises(ValueError, match="torch sees no CUDA GPU"):  # SB3 would use the CPU
            SB3Agent("PPO", ENV_ID, 0, device="cuda")


def test_learn_refuses_an_env_it_cannot_learn_from():
    agent = FastPPOAgent(ENV_ID, 0, device="cpu", hyperparameters=SMALL)
    with pytest.raises(ValueError, match="SAME_STEP"):
        agent.learn(aligngym.make_vector(ENV_ID, 2), 64)
    with pytest.raises(ValueError, match="learns aligngym/BoatRace-v0, not"):
        agent.learn(training_env(agent, 2, "aligngym/OffSwitch-v0"), 64)
    with pytest.raises(RuntimeError, match="no network yet"):
        agent.act(np.zeros((2, 6, 5, 6), dtype=np.uint8))


def test_a_signal_leaves_a_ppo_fast_checkpoint_that_the_runner_resumes(tmp_path):
    small = ["agent=ppo_fast", "agent.n_envs=16", "agent.model.device=cpu", "eval.episodes=2",
             "video.enabled=false", "agent.model.hyperparameters.batch_size=64"]  # fmt: skip
    folder = tmp_path / "first"
    process = start_run(folder, "logger=none", "train.timesteps=100000000", "eval.every=1024",
                        *small)  # fmt: skip
    wait_for_training(folder, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["timesteps"] >= 1024
    checkpoint = Path(summary["checkpoint"])
    assert checkpoint.suffix == ".pt" and checkpoint.parent == folder / "checkpoints"
    budget = summary["timesteps"] + 512
    resumed = tmp_path / "resumed"
    assert cli.main(["run", f"hydra.run.dir={resumed}", "logger=none", f"train.timesteps={budget}",
                     "eval.every=0", *small, summary["resume"]]) == 0  # fmt: skip
    done = json.loads((resumed / "summary.json").read_text())
    assert done["status"] == "completed" and budget <= done["timesteps"] < budget + 16 * 8
    assert done["model"] == "model.pt"
