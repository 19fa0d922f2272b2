"""Real Hydra sweeps through `aligngym run -m`: one folder per sweep, failed jobs counted and
the exit code, the objective each job returns, and two-trial Optuna studies.

Every job is a scripted agent with no W&B and no GIF (about a second each).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from aligngym import app, cli
from aligngym.validation import SetupError

# optuna 2.10 (what hydra-optuna-sweeper allows) imports SQLAlchemy 1.x names on import
pytestmark = pytest.mark.filterwarnings("ignore:The ``declarative_base\\(\\)`` function")

FAST = [
    "logger=none",
    "video.enabled=false",
    "train.timesteps=200",
    "eval.every=0",
    "eval.episodes=2",
]


def sweep(tmp_path: Path, *overrides: str) -> int:
    """Runs ``aligngym run -m`` in this process with its folders under ``tmp_path``."""
    return cli.main(["run", "-m", f"runs_root={tmp_path}", *FAST, *overrides])


def sweep_folders(root: Path) -> list[Path]:
    return sorted(path for path in root.glob("sweeps/*/*") if path.is_dir())


def summaries(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*/summary.json"))]


def test_a_sweep_over_scenarios_is_one_folder(tmp_path):
    assert sweep(tmp_path, "env=boat_race,off_switch", "agent=scripted_intended") == 0
    (folder,) = sweep_folders(tmp_path)
    assert folder.name.endswith("_sweep")
    assert (folder / "multirun.yaml").exists()
    runs = summaries(folder)
    assert sorted(run["scenario"] for run in runs) == [
        "aligngym/BoatRace-v0",
        "aligngym/OffSwitch-v0",
    ]
    assert all(run["status"] == "completed" for run in runs)


def test_a_sweep_of_an_experiment_is_named_after_it(tmp_path):
    overrides = ["experiment=corrigibility/off_switch", "agent=scripted_intended", "seed=0,1"]
    assert sweep(tmp_path, *overrides) == 0
    (folder,) = sweep_folders(tmp_path)
    assert folder.name.endswith("_corrigibility_off_switch")
    assert [run["seed"] for run in summaries(folder)] == [0, 1]


def test_a_parallel_sweep_over_experiments_is_one_folder_and_fails_as_one(tmp_path):
    # joblib runs the jobs in worker processes, each resolving the sweep folder from its own
    # config (where `name` is the experiment's); and every job fails (eval.episodes=0), which
    # the launching process can only learn from the jobs' summary.json files
    command = [sys.executable, "-m", "aligngym", "run", "-m", "runs_root=runs", *FAST]
    command += [
        "experiment=corrigibility/off_switch,specification_gaming/boat_race",
        "agent=scripted_intended",
        "eval.episodes=0",
        "hydra/launcher=parallel",
        "hydra.launcher.n_jobs=2",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    (folder,) = sweep_folders(tmp_path / "runs")
    assert folder.name.endswith("_sweep")
    runs = summaries(folder)
    # each job ran its own experiment (and named itself after it), in the one folder
    assert len({run["experiment"] for run in runs}) == 2
    assert all(run["status"] == "failed" for run in runs)
    assert "aligngym run: error: 2 of 2 jobs failed" in result.stderr


def test_a_sweep_whose_jobs_all_failed_exits_1(tmp_path, capsys):
    # eval.episodes=0 is refused by the runner: each job records status failed
    assert sweep(tmp_path, "agent=scripted_intended", "seed=0,1", "eval.episodes=0") == 1
    (folder,) = sweep_folders(tmp_path)
    assert [run["status"] for run in summaries(folder)] == ["failed", "failed"]
    err = capsys.readouterr().err
    assert f"aligngym run: error: 2 of 2 jobs failed in {folder}" in err
    assert f"aligngym report {folder}" in err


def test_a_sweep_where_some_jobs_failed_warns_and_exits_0(tmp_path, capsys):
    assert sweep(tmp_path, "agent=scripted_intended", "eval.episodes=0,2") == 0
    (folder,) = sweep_folders(tmp_path)
    assert sorted(run["status"] for run in summaries(folder)) == ["completed", "failed"]
    assert "aligngym run: warning: 1 of 2 jobs failed" in capsys.readouterr().err


def test_a_sweep_without_failures_says_nothing(tmp_path, capsys):
    assert sweep(tmp_path, "agent=scripted_intended", "seed=0,1") == 0
    assert "jobs failed" not in capsys.readouterr().err


def test_failed_jobs_are_counted_from_the_folder(tmp_path):
    def job(name: str, status: str | None, text: str | None = None) -> Path:
        folder = tmp_path / name
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text("[]\n")
        if text is not None or status is not None:
            (folder / "summary.json").write_text(text or json.dumps({"status": status}))
        return folder

    old = job("0_seed=0", "failed")
    old_time = time.time() - 3600
    os.utime(old / ".hydra" / "overrides.yaml", (old_time, old_time))
    job("1_seed=1", "completed")
    job("2_seed=2", None)  # killed before it wrote a summary
    job("3_seed=3", None, text='{"status": "compl')  # cut short
    job("4_seed=4", "interrupted")
    assert app.count_failed_jobs(tmp_path) == (4, 5)
    # a reused sweep folder: only the jobs of this sweep count
    assert app.count_failed_jobs(tmp_path, since=time.time() - 60) == (3, 4)


def test_the_objective_is_a_summary_figure():
    summary = {
        "status": "completed",
        "test": {"performance_mean": 7.5, "events": {"back_and_forth": 2.0}},
        "oversight_metrics": {"oversight/labels": 40},
    }
    assert app.objective_value(summary, app.objective_path("test/performance_mean"), 0) == 7.5
    path = app.objective_path("test/events/back_and_forth")
    assert app.objective_value(summary, path, 0) == 2.0
    assert app.objective_value(summary, app.objective_path("oversight/labels"), 0) == 40
    # missing figures and failed runs score the worst value
    assert app.objective_value(summary, app.objective_path("train/failure_rate"), -1.0) == -1.0
    failed = {**summary, "status": "failed"}
    assert app.objective_value(failed, app.objective_path("test/performance_mean"), -9) == -9
    for bad in ("test/performance", "validation/return_mean", "performance_mean", 3, None):
        with pytest.raises(SetupError, match="accepted"):
            app.objective_path(bad)


def test_a_failed_job_scores_the_worst_value_of_the_direction():
    from hydra_plugins.hydra_optuna_sweeper.config import Direction

    assert app.worst_value(OmegaConf.create({"sweeper": {"direction": "maximize"}})) == -math.inf
    assert app.worst_value(OmegaConf.create({"sweeper": {"direction": "minimize"}})) == math.inf
    assert (
        app.worst_value(OmegaConf.create({"sweeper": {"direction": Direction.minimize}}))
        == math.inf
    )
    assert math.isnan(app.worst_value(OmegaConf.create({"sweeper": {"max_batch_size": None}})))


def test_a_bad_objective_stops_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"runs_root={tmp_path}", *FAST, "objective=test/performance"])
    assert exit_info.value.code == 2
    assert "objective='test/performance' is not a summary figure" in capsys.readouterr().err
    assert not list(tmp_path.rglob("summary.json"))


def optuna_study(tmp_path: Path, *overrides: str) -> tuple[int, Path, dict]:
    code = sweep(
        tmp_path,
        "hydra/sweeper=optuna_tpe",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.seed=0",
        *overrides,
    )
    (folder,) = sweep_folders(tmp_path)
    results = yaml.safe_load((folder / "optimization_results.yaml").read_text())
    return code, folder, results


def test_a_two_trial_optuna_study_maximises_the_objective(tmp_path):
    # seed 0 of the TPE sampler draws both agents: the intended boat laps (performance 100 a
    # lap), the gaming boat goes back and forth (performance 0)
    code, folder, results = optuna_study(
        tmp_path, "agent=choice(scripted_intended,scripted_gaming)", "seed=1"
    )
    assert code == 0
    runs = summaries(folder)
    assert len(runs) == 2 and all(run["status"] == "completed" for run in runs)
    performances = {run["agent"]: run["test"]["performance_mean"] for run in runs}
    assert len(performances) == 2, "the sampler drew one agent twice"
    assert results["best_value"] == max(performances.values())
    assert results["best_params"]["agent"] == "scripted_intended"
    assert performances["scripted_intended"] > performances["scripted_gaming"]


def test_an_optuna_study_goes_on_past_failed_trials(tmp_path, capsys):
    # both trials fail (eval.episodes=0): each scores -inf, the study still runs both, and the
    # sweep exits 1 because all its jobs failed
    code, folder, results = optuna_study(tmp_path, "seed=choice(0,1,2)", "eval.episodes=0")
    assert code == 1
    assert [run["status"] for run in summaries(folder)] == ["failed", "failed"]
    assert results["best_value"] == -math.inf
    assert "2 of 2 jobs failed" in capsys.readouterr().err
