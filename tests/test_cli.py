"""The `aligngym` command: subcommands, help, configs, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import config_options
from hydra import compose
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

import aligngym
from aligngym import cli
from aligngym.agents.base import EpisodeLog
from aligngym.envs import SCENARIOS, cards
from aligngym.validation import build_agent, validate

# agents that the runner does not train for train.timesteps: their experiments evaluate without
# training, or (students) are trained inside the oversight module's study
NOT_LEARNING = {"llm", "greedy_debater", "search_debater", "uniform_debater", "noisy_solver",
                "llm_solver", "pretrained_student", "scratch_student", "lm_student"}  # fmt: skip
# the single-agent scenarios: single agents play them (debates have their own tests)
SINGLE_AGENT_IDS = sorted(env_id for env_id, record in SCENARIOS.items() if record.kind == "single")


def agent_kind(option: str) -> str:
    """The kind of scenario agent config ``option`` plays (Hydra initialised)."""
    target = compose("config", overrides=[f"agent={option}"]).agent.model._target_
    return getattr(get_class(target), "scenario_kind", "single")


def single_agent_env_options() -> list[str]:
    """The env config options that name a single-agent scenario."""
    kinds = {record.config_name: record.kind for record in SCENARIOS.values()}
    return [option for option in config_options("env") if kinds[option] == "single"]


def python_m(*args: str, cwd: Path | None = None, code: str | None = None):
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_scenarios_prints_every_card(capsys):
    assert cli.main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "aligngym/BoatRace-v0" in out
    for card in cards():
        assert card.format() in out


def test_module_entry_point_and_help():
    result = python_m("aligngym", "--help")
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("run", "report", "scenarios"))


def test_unknown_command_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_run_help_lists_config_groups_and_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for group in ("agent:", "env:", "logger:", "oversight:", "experiment/specification_gaming:"):
        assert group in out
    assert "scripted_gaming" in out and "boat_race" in out and "runs_root" in out


@pytest.mark.parametrize("command", ["report", "scenarios"])
def test_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"aligngym {command}" in capsys.readouterr().out


def test_flags_may_follow_overrides():
    args = ["seed=0,1", "-m", "--cfg", "job", "~video", "agent=ppo"]
    assert cli.hydra_argv(args) == ["-m", "--cfg", "job", "seed=0,1", "~video", "agent=ppo"]


def test_missing_launcher_plugin_names_the_pip_extra(tmp_path):
    # the submitit plugin made unimportable, as when aligngym[slurm] is not installed
    code = (
        "import sys; sys.modules['hydra_plugins.hydra_submitit_launcher'] = None; "
        "from aligngym.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = python_m("run", "-m", "seed=0,1", "hydra/launcher=slurm", code=code, cwd=tmp_path)
    assert result.returncode == 2
    assert 'pip install "aligngym[slurm]"' in result.stderr
    assert not (tmp_path / "runs").exists()


def test_missing_sweeper_plugin_names_the_optuna_extra(tmp_path):
    # the Optuna plugin made unimportable, as when aligngym[optuna] is not installed
    code = (
        "import sys; sys.modules['hydra_plugins.hydra_optuna_sweeper'] = None; "
        "from aligngym.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ("run", "-m", "hydra/sweeper=optuna_tpe", "agent=choice(ppo,a2c)")
    result = python_m(*args, code=code, cwd=tmp_path)
    assert result.returncode == 2
    assert "hydra/sweeper=optuna_tpe needs the Hydra plugin" in result.stderr
    assert 'pip install "aligngym[optuna]"' in result.stderr
    assert not (tmp_path / "runs").exists()


def test_the_optuna_sweeper_config_composes(hydra_conf):
    cfg = compose("config", overrides=["hydra/sweeper=optuna_tpe"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.direction == "maximize" and sweeper.n_trials > 0
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    assert cfg.objective == "test/performance_mean"


def test_runs_go_under_runs_relative_to_the_working_directory(tmp_path):
    result = python_m(
        "aligngym",
        "run",
        "agent=scripted_gaming",
        "logger=none",
        "eval.episodes=1",
        "video.enabled=false",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (summary,) = tmp_path.glob("runs/*/*_boat_race_scripted_gaming_s0/summary.json")
    assert '"status": "completed"' in summary.read_text()
    assert "failure rate" in result.stdout


def test_every_env_config_names_a_scenario_and_its_card_settings(hydra_conf):
    for option in config_options("env"):
        cfg = compose("config", overrides=[f"env={option}"])
        record = SCENARIOS[cfg.env.id]
        for setting in ("train", "test"):
            settings = OmegaConf.to_container(cfg.env[setting], resolve=True)
            record.check_settings(settings)
            assert settings == record.named_settings(setting), (option, setting)
            assert record.card.settings[setting].items() <= settings.items(), (option, setting)


def test_every_scripted_agent_config_builds_on_every_scenario(hydra_conf):
    for option in ("scripted_intended", "scripted_gaming"):
        cfg = compose("config", overrides=[f"agent={option}"])
        for env_id in SINGLE_AGENT_IDS:
            agent = instantiate(cfg.agent.model, env_id=env_id, seed=0)
            env = aligngym.make_vector(env_id, 2)
            observations, _ = env.reset(seed=0)
            agent.watch(env)
            assert agent.act(observations).shape == (2,), (option, env_id)


def test_every_experiment_composes_on_a_registered_scenario(hydra_conf):
    for option in config_options("experiment"):
        cfg = compose("config", overrides=[f"experiment={option}"])
        assert cfg.env.id in SCENARIOS, option
        learns = cfg.agent.name not in NOT_LEARNING
        assert cfg.name and (cfg.train.timesteps > 0) == learns, option


def test_the_language_model_baseline_sweeps_every_scenario(hydra_conf):
    cfg = compose("config", overrides=["experiment=llm/baseline"], return_hydra_config=True)
    swept = cfg.hydra.sweeper.params.env.split(",")
    assert sorted(swept) == sorted(single_agent_env_options())


@pytest.mark.parametrize("launcher", ["parallel", "slurm", "slurm_gpu"])
def test_launcher_configs_select_hydra_launchers(hydra_conf, launcher):
    cfg = compose("config", overrides=[f"hydra/launcher={launcher}"], return_hydra_config=True)
    target = cfg.hydra.launcher._target_
    expected = "JoblibLauncher" if launcher == "parallel" else "SlurmLauncher"
    assert target.endswith(expected)


def test_report_of_a_sweep_folder(tmp_path, capsys):
    sweep = ["-m", "agent=scripted_gaming,scripted_intended", "logger=none", "eval.episodes=2"]
    assert cli.main(["run", f"runs_root={tmp_path}", "video.enabled=false", *sweep]) == 0
    (sweep_dir,) = tmp_path.glob("sweeps/*/*")
    capsys.readouterr()
    assert cli.main(["report", str(sweep_dir), "--out", str(tmp_path / "report")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "report")
    table = (tmp_path / "report" / "report.md").read_text()
    assert "scripted_gaming" in table and "scripted_intended" in table


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "aligngym report: error:" in capsys.readouterr().err


@pytest.mark.usefixtures("one_torch_thread")
def test_every_learning_agent_config_trains_and_acts_on_every_scenario(hydra_conf, tmp_path):
    """What `aligngym run env=<any> agent=<any learner>` builds learns a few steps and acts
    (the language-model agents: the next test)."""
    learners = [
        option for option in config_options("agent")
        if not option.startswith(("scripted", "llm")) and agent_kind(option) == "single"
    ]  # fmt: skip
    for env_option in single_agent_env_options():
        for agent_option in learners:
            cfg = compose("config", overrides=[f"env={env_option}", f"agent={agent_option}"])
            if "checkpoint_dir" in cfg.agent.model:  # the run folder, outside a run
                cfg.agent.model.checkpoint_dir = str(tmp_path)
            spec = validate(cfg)
            agent = build_agent(cfg, spec)
            env = aligngym.make_vector(
                spec.env_id, 2, autoreset_mode=agent.autoreset_mode, obs_type=spec.obs_type
            )
            agent.learn(env, 64, EpisodeLog())
            observations, _ = env.reset(seed=1)
            actions = agent.act(observations)
            assert env.action_space.contains(actions), (env_option, agent_option)


def test_language_model_agents_act_in_every_scenario_and_fine_tune(hydra_conf, tmp_path, smollm2):
    """agent=llm, as `aligngym run` builds it (with the session's loaded model), reads every
    scenario's text and picks legal actions; agent=llm_rl learns one update in a gridworld."""
    for env_option in single_agent_env_options():
        cfg = compose("config", overrides=[f"env={env_option}", "agent=llm"])
        spec = validate(cfg)
        assert spec.obs_type == "text"  # chosen for the agent: the env configs leave it unset
        cfg.agent.model.transcript = str(tmp_path / f"{env_option}.jsonl")
        agent = instantiate(cfg.agent.model, env_id=spec.env_id, seed=0, language_model=smollm2)
        env = aligngym.make_vector(spec.env_id, 2, obs_type="text")
        observations, _ = env.reset(seed=1)
        assert env.action_space.contains(agent.act(observations)), env_option
    fine_tuning = [f"agent.model.fine_tuning.{k}=1" for k in ("n_steps", "batch_size", "n_epochs")]
    cfg = compose("config", overrides=["env=boat_race", "agent=llm_rl", *fine_tuning])
    cfg.agent.model.checkpoint_dir = cfg.agent.model.transcript = str(tmp_path)
    spec = validate(cfg)
    agent = build_agent(cfg, spec)
    env = aligngym.make_vector(spec.env_id, 2, autoreset_mode=agent.autoreset_mode, obs_type="text")
    log = EpisodeLog()
    agent.learn(env, 2, log)
    assert agent.timesteps == 2 and log.metrics[-1]["losses/kl_to_reference"] >= 0
    assert env.action_space.contains(agent.act(env.reset(seed=1)[0]))
