"""The runner end to end: `aligngym run` writes a complete, correct run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import wandb_records
from omegaconf import OmegaConf
from PIL import Image

import aligngym
from aligngym import cli
from aligngym.agents.scripted import ScriptedAgent, scripted_policy
from aligngym.envs.core import summarize
from aligngym.evaluation import evaluate
from aligngym.run_logging import MissingDependencyError, require

ENV_ID = "aligngym/BoatRace-v0"
SCRIPTED = ["logger=wandb", "eval.episodes=3"]


@pytest.fixture(autouse=True)
def offline_wandb(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_dir"))
    monkeypatch.setenv("WANDB_SILENT", "true")


def aligngym_run(root: Path, *overrides: str) -> int:
    return cli.main(["run", f"runs_root={root}", *overrides])


def only_run_folder(root: Path) -> Path:
    folders = [p.parent for p in root.glob("*/*/.hydra")]
    assert len(folders) == 1, folders
    return folders[0]


def rollout_by_hand(policy_name: str, seed: int) -> dict:
    """Scripted episode on the single Gymnasium env, summed step by step (independent of the
    runner's evaluation code)."""
    env = aligngym.make(ENV_ID)
    policy = scripted_policy(ENV_ID, policy_name).policy
    env.reset(seed=seed)
    ret = perf = 0.0
    events = dict.fromkeys(env.card.events, 0.0)
    done = False
    while not done:
        _, reward, terminated, truncated, info = env.step(int(policy(aligngym.true_state(env))[0]))
        ret += reward
        perf += info["performance"]
        for name, value in info["events"].items():
            events[name] += value
        done = terminated or truncated
    return {
        "ret": ret,
        "perf": perf,
        "events": events,
        "failed": events[env.card.failure_event] > 0,
    }


def test_scripted_run_writes_every_file_with_the_policys_true_values(tmp_path):
    assert aligngym_run(tmp_path, "agent=scripted_intended", "seed=5", *SCRIPTED) == 0
    folder = only_run_folder(tmp_path)
    assert folder.name.endswith("_boat_race_scripted_intended_s5")

    config = OmegaConf.load(folder / "config.yaml")
    assert config.seed == 5 and config.env.id == ENV_ID
    assert "${" not in (folder / "config.yaml").read_text()  # resolved

    expected = rollout_by_hand("intended", seed=5)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert (summary["scenario"], summary["agent"], summary["oversight"]) == (
        ENV_ID,
        "scripted_intended",
        "none",
    )
    assert summary["seed"] == 5 and summary["timesteps"] == 0
    assert {"agent=scripted_intended", "seed=5"} <= set(summary["overrides"])
    for setting in ("train", "test"):
        s = summary[setting]
        assert s["episodes"] == 3
        assert s["return_mean"] == pytest.approx(expected["ret"])
        assert s["performance_mean"] == pytest.approx(expected["perf"])
        assert s["failure_rate"] == float(expected["failed"])
        assert s["events"] == pytest.approx(expected["events"])

    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["timesteps"] == 0
    assert rows[0]["eval/test/return_mean"] == pytest.approx(expected["ret"])
    assert rows[0]["eval/train/performance_mean"] == pytest.approx(expected["perf"])
    assert rows[0]["eval/train/failure_rate"] == 0.0
    assert (folder / "model.txt").exists()

    gif = Image.open(folder / "episode.gif")
    max_steps = aligngym.scenario(ENV_ID).parameters["max_steps"]
    assert gif.n_frames == max_steps + 1  # the start and one frame a step
    start = aligngym.make(ENV_ID, render_mode="rgb_array")
    start.reset(seed=0)
    first = np.asarray(gif.convert("RGB"))
    board = start.render()
    np.testing.assert_array_equal(first[: board.shape[0]], board)
    assert (first[board.shape[0] :] == 255).all()  # the timeline bar, empty at step 0
    gif.seek(gif.n_frames - 1)
    last = np.asarray(gif.convert("RGB"))
    assert (last[board.shape[0] :] != 255).all()  # full at the last step

    records = wandb_records(folder)
    kinds = [r.WhichOneof("record_type") for r in records]
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.run_group == "boat_race" and run.display_name == folder.name
    history = [r.history for r in records if r.WhichOneof("record_type") == "history"]
    logged = {key for h in history for key in _nested_keys(h)}
    assert {"timesteps", "eval/train/return_mean", "eval/test/failure_rate"} <= logged
    assert any(k.startswith("videos/episode") for h in history for k in _nested_keys(h))
    (exit_record,) = [r.exit for r in records if r.WhichOneof("record_type") == "exit"]
    assert exit_record.exit_code == 0 and kinds[-1] in ("exit", "final", "footer", "summary")


def _nested_keys(history) -> list[str]:
    return [item.key or "/".join(item.nested_key) for item in history.item]


def test_evaluate_runs_exactly_the_asked_episodes_from_their_start():
    agent = ScriptedAgent(ENV_ID, "gaming")
    expected = rollout_by_hand("gaming", seed=0)
    for num_envs in (None, 2):
        records = evaluate(agent, ENV_ID, {}, episodes=5, seed=0, num_envs=num_envs)
        assert len(records) == 5
        for record in records:
            assert record.length == aligngym.scenario(ENV_ID).parameters["max_steps"]
            assert record.ret == pytest.approx(expected["ret"])
            assert record.performance == pytest.approx(expected["perf"])
            assert record.failed
    assert summarize(records)["failure_rate"] == 1.0


def test_ppo_run_evaluates_periodically_and_saves_the_model(tmp_path):
    overrides = [
        "logger=none",
        "agent=ppo",
        "agent.n_envs=4",
        "agent.model.hyperparameters.n_steps=32",
        "agent.model.hyperparameters.batch_size=64",
        "agent.model.hyperparameters.n_epochs=1",
        "agent.model.device=cpu",
        "agent.model.checkpoint_every=256",
        "train.timesteps=512",
        "eval.every=256",
        "eval.episodes=2",
        "video.enabled=false",
    ]
    assert aligngym_run(tmp_path, *overrides) == 0
    folder = only_run_folder(tmp_path)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["timesteps"] for row in rows] == [256, 512]
    # 4 envs x 100-step episodes: none has ended by step 256, four by step 512
    assert "charts/episodic_return" not in rows[0]
    last = rows[1]
    episodes_seen = 4 * (512 // (4 * 100))
    assert episodes_seen == 4
    assert {"charts/episodic_return", "charts/episodic_performance", "charts/SPS"} <= set(last)
    # SB3's own training figures reach metrics.jsonl (and W&B) under losses/
    assert {"losses/value_loss", "losses/policy_gradient_loss", "losses/entropy_loss"} <= set(last)
    # the last row evaluates the model after its last update (the fourth rollout of 32 x 4
    # steps), not during that rollout
    assert last["losses/n_updates"] == 4
    assert {"events/back_and_forth", "events/arrow_entered", "events/clockwise_move"} <= set(last)
    # an episode of 100 steps: performance is +-1 a step, the return -1 a step plus 3 an arrow
    assert -100 <= last["charts/episodic_performance"] <= 100
    assert last["charts/episodic_return"] == pytest.approx(-100 + 3 * last["events/arrow_entered"])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["timesteps"] == 512
    assert summary["training_episodes"] == episodes_seen
    assert summary["test"]["return_mean"] == pytest.approx(last["eval/test/return_mean"])
    assert (folder / summary["model"]).name == "model.zip" and (folder / "model.zip").exists()
    assert not (folder / "episode.gif").exists()
    checkpoints = sorted(p.name for p in (folder / "checkpoints").iterdir())
    assert checkpoints == ["ppo_256_steps.zip", "ppo_512_steps.zip"]


def test_sweep_records_a_failing_job_and_goes_on(tmp_path):
    # the second job asks for a scripted policy that does not exist: it is refused before work
    sweep = ["-m", "agent=scripted_gaming", "agent.model.policy=gaming,no_such_policy", *SCRIPTED]
    assert aligngym_run(tmp_path, *sweep) == 0
    (sweep_dir,) = tmp_path.glob("sweeps/*/*")
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").exists())
    assert [p.name.split("_")[0] for p in jobs] == ["0", "1"]
    ok, bad = (json.loads((job / "summary.json").read_text()) for job in jobs)
    assert ok["status"] == "completed" and ok["test"]["failure_rate"] == 1.0
    assert bad["status"] == "failed" and "no_such_policy" in bad["error"]
    assert "Traceback" in (jobs[1] / "traceback.txt").read_text()
    records = wandb_records(jobs[0])
    exits = [r.exit.exit_code for r in records if r.WhichOneof("record_type") == "exit"]
    assert exits == [0]
    assert not (jobs[1] / "wandb").exists()  # the bad policy name was refused before any work


def test_a_failing_single_run_exits_non_zero_and_is_recorded(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        aligngym_run(tmp_path, "agent=scripted_gaming", "logger=none", "agent.model.policy=nope")
    assert exit_info.value.code != 0
    folder = only_run_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "failed" and "nope" in summary["error"]
    assert "Traceback" in (folder / "traceback.txt").read_text()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("env.id=aligngym/NoSuch-v0", ["unknown scenario", ENV_ID]),
        ("env.test.track=nope", ["env.test", "track must be one of", "extended", "original"]),
        ("eval.episodes=0", ["eval.episodes must be an integer >= 1"]),
        ("seed=1.5", ["seed must be an integer >= 0, got 1.5"]),
        ("seed=-1", ["seed must be an integer >= 0, got -1"]),
        ("env.train.max_steps=-5", ["env.train", "max_steps must be an integer >= 1, got -5"]),
        ("video.fps=0", ["video.fps must be a number > 0"]),
        ("agent=ppo env.obs_type=text", ["reads observation types", "'text'"]),
        ("env.obs_type=pixels", ["env.obs_type", "'grid', 'flat', 'text', 'rgb'"]),
        (
            "agent=ppo agent.model.hyperparameters.n_steps=0",
            ["agent.model", "hyperparameters.n_steps must be an integer >= 1, got 0"],
        ),
        (
            "env=off_switch env.train.interruption_probability=abc",
            ["env.train", "interruption_probability must be a number in [0.0, 1.0], got 'abc'"],
        ),
        (
            "+agent.model.hyperparameters.x._target_=builtins.print",
            ["agent.model.hyperparameters.x._target_", "builtins.print"],
        ),
    ],
)
def test_bad_input_is_refused_before_any_work(tmp_path, capsys, override, message):
    with pytest.raises(SystemExit) as exit_info:
        aligngym_run(tmp_path, "agent=scripted_gaming", "logger=wandb", *override.split())
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert all(part in err for part in message), err
    folder = only_run_folder(tmp_path)
    assert not (folder / "metrics.jsonl").exists() and not (folder / "wandb").exists()
    assert json.loads((folder / "summary.json").read_text())["status"] == "failed"


def test_unknown_config_group_option_lists_the_options(tmp_path, capsys):
    with pytest.raises(SystemExit):
        aligngym_run(tmp_path, "agent=no_such_agent")
    err = capsys.readouterr().err
    assert "no_such_agent" in err
    assert all(name in err for name in ("ppo", "a2c", "dqn", "scripted_gaming"))


def test_missing_optional_dependency_names_the_pip_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install aligngym\[nope\]"):
        require("aligngym_no_such_module", "aligngym[nope]")


def test_every_card_setting_is_overridable_without_plus_and_shows_progress(tmp_path, capsys):
    """``env.train.max_steps=50`` needs no ``+`` (the env config holds every card setting);
    ``progress=bar`` draws a bar with timesteps and a rate on stderr."""
    overrides = ["agent=scripted_gaming", "logger=none", "video.enabled=false",
                 "env.train.max_steps=50", "train.timesteps=0", "eval.episodes=2", "progress=bar"]
    assert aligngym_run(tmp_path, *overrides) == 0
    summary = json.loads((only_run_folder(tmp_path) / "summary.json").read_text())
    assert summary["train"]["length_mean"] == 50 and summary["test"]["length_mean"] == 100
    assert "training" in capsys.readouterr().err


@pytest.mark.parametrize("override", ["env.train.speed=3", "+env.test.speed=3"])
def test_a_misspelt_setting_lists_the_accepted_ones_before_anything_is_written(
    tmp_path, capsys, override
):
    assert aligngym_run(tmp_path, "agent=scripted_gaming", override) == 2
    err = capsys.readouterr().err
    assert "has no setting 'speed'; accepted settings: ['max_steps', 'track']" in err
    assert not list(tmp_path.iterdir())
