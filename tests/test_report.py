"""The report command on real run folders built from scripted boat-race evaluations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import aligngym
from aligngym.agents.scripted import scripted_policy
from aligngym.envs.core import EpisodeRecord, summarize
from aligngym.report import NoRunsError, build_report, load_curves, main, run_variants

ENV_ID = "aligngym/BoatRace-v0"
AGENTS = ("intended", "gaming")
SEEDS = (0, 1, 2)
SETTINGS = {"train": {"track": "extended"}, "test": {"track": "original"}}
EPISODES = 4


def evaluate(policy_name: str, seed: int, noise: float, **settings) -> dict:
    """Summarises episodes of a scripted policy whose actions are randomised with p=noise."""
    env = aligngym.make_sb3_vec_env(ENV_ID, EPISODES, seed=seed, max_steps=30, **settings)
    env.reset()
    policy = scripted_policy(ENV_ID, policy_name)
    rng = np.random.default_rng(seed)
    records: list[EpisodeRecord] = []
    while len(records) < EPISODES:
        actions = policy(env.core)
        random = rng.random(EPISODES) < noise
        actions = np.where(random, rng.integers(0, 4, EPISODES), actions)
        _, _, _, infos = env.step(actions)
        for info in infos:
            if "episode" in info:
                records.append(EpisodeRecord.from_info(info["episode"]))
    return summarize(records)


def write_run(folder: Path, agent: str, seed: int) -> dict:
    folder.mkdir(parents=True)
    summary = {
        "status": "completed",
        "experiment": "specification_gaming/boat_race",
        "scenario": ENV_ID,
        "agent": agent,
        "oversight": "none",
        "seed": seed,
        "timesteps": 200,
    }
    for setting, settings in SETTINGS.items():
        summary[setting] = evaluate(agent, seed, noise=0.2, **settings)
    (folder / "summary.json").write_text(json.dumps(summary))
    rows = []
    for timesteps, noise in ((0, 1.0), (100, 0.5), (200, 0.2)):
        train, test = (evaluate(agent, seed, noise, **s) for s in SETTINGS.values())
        rows.append(
            {
                "timesteps": timesteps,
                "charts/SPS": 1000.0,
                **{f"eval/train/{k}": train[k] for k in ("return_mean", "performance_mean")},
                **{f"eval/test/{k}": test[k] for k in ("return_mean", "failure_rate")},
            }
        )
    lines = [json.dumps(row) for row in rows]
    (folder / "metrics.jsonl").write_text("\n".join(lines[:1] + [""] + lines[1:]) + "\n")
    return summary


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("sweep")
    summaries = {
        (agent, seed): write_run(root / f"{agent}_seed{seed}", agent, seed)
        for agent in AGENTS
        for seed in SEEDS
    }
    failed = root / "dqn_seed0"
    failed.mkdir()
    error = "RuntimeError: CUDA out of memory | while learning"
    (failed / "summary.json").write_text(
        json.dumps(
            {
                "status": "failed",
                "experiment": "specification_gaming/boat_race",
                "scenario": ENV_ID,
                "agent": "dqn",
                "oversight": "none",
                "seed": 0,
                "timesteps": 200,
                "error": error,
            }
        )
    )
    return root, summaries


@pytest.fixture(scope="module")
def report(sweep, tmp_path_factory) -> Path:
    root, _ = sweep
    return build_report(root, tmp_path_factory.mktemp("report"))


def test_results_csv_has_one_row_per_run_with_its_summary(sweep, report):
    _, summaries = sweep
    results = pd.read_csv(report / "results.csv")
    assert len(results) == len(summaries) + 1
    for (agent, seed), summary in summaries.items():
        row = results[(results["agent"] == agent) & (results["seed"] == seed)].iloc[0]
        assert row["status"] == "completed"
        for setting in SETTINGS:
            for stat in ("return_mean", "return_std", "performance_mean", "failure_rate"):
                assert row[f"{setting}_{stat}"] == pytest.approx(summary[setting][stat])
            assert row[f"{setting}_event_back_and_forth"] == pytest.approx(
                summary[setting]["events"]["back_and_forth"]
            )
    failed = results[results["status"] == "failed"].iloc[0]
    assert failed["agent"] == "dqn" and "CUDA out of memory" in failed["error"]


def test_report_table_holds_mean_and_std_over_seeds(sweep, report):
    _, summaries = sweep
    text = (report / "report.md").read_text()
    for agent in AGENTS:
        line = next(row for row in text.splitlines() if f"| {agent} |" in row)
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[:4] == [ENV_ID, agent, "none", str(len(SEEDS))]
        expected = []
        for setting in SETTINGS:
            for stat in ("return_mean", "performance_mean", "failure_rate"):
                values = np.array([summaries[agent, seed][setting][stat] for seed in SEEDS])
                expected.append(f"{values.mean():.2f} ± {values.std():.2f}")
        assert cells[4:] == expected
    # the noisy runs differ between seeds, so the spread is a real one
    gaming_returns = [summaries["gaming", seed]["train"]["return_mean"] for seed in SEEDS]
    assert np.std(gaming_returns) > 0


def test_intended_policy_outperforms_gaming_in_the_report(sweep, report):
    results = pd.read_csv(report / "results.csv")
    means = results[results["status"] == "completed"].groupby("agent").mean(numeric_only=True)
    assert (
        means.loc["intended", "train_performance_mean"]
        > means.loc["gaming", "train_performance_mean"]
    )
    assert means.loc["gaming", "train_failure_rate"] > means.loc["intended", "train_failure_rate"]


def test_failed_runs_are_listed_with_their_error(report):
    text = (report / "report.md").read_text()
    failed_section = text.split("## Failed runs", 1)[1]
    assert "dqn_seed0" in failed_section
    assert "RuntimeError: CUDA out of memory \\| while learning" in failed_section
    assert "7 runs: 6 completed, 1 failed." in text


def test_plots_are_valid_pngs(report):
    for name in ("reward_vs_performance.png", "learning_curves.png"):
        with Image.open(report / name) as image:
            image.verify()
            assert image.format == "PNG"
            assert image.size[0] > 100 and image.size[1] > 100


def test_learning_curves_read_every_evaluation_row(sweep):
    root, summaries = sweep
    results = pd.DataFrame(
        [
            {
                "run": f"{a}_seed{s}",
                "scenario": ENV_ID,
                "agent": a,
                "oversight": "none",
                "variant": "",
                "label": a,
                "seed": s,
            }
            for a, s in summaries
        ]
    )
    curves = load_curves(root, results)
    assert len(curves) == 3 * len(summaries)
    assert sorted(curves["timesteps"].unique()) == [0, 100, 200]
    # the test rows carry no eval/test/performance_mean key: missing keys are tolerated
    assert "eval/test/performance_mean" not in curves


def test_a_single_run_folder_is_a_report_too(sweep, tmp_path):
    root, _ = sweep
    out = build_report(root / "gaming_seed1", tmp_path)
    results = pd.read_csv(out / "results.csv")
    assert list(results["agent"]) == ["gaming"] and list(results["run"]) == ["."]


def test_folder_without_summaries_is_refused(tmp_path):
    (tmp_path / "empty_sweep").mkdir()
    with pytest.raises(NoRunsError, match="no summary.json"):
        build_report(tmp_path / "empty_sweep")
    with pytest.raises(SystemExit):
        main([str(tmp_path / "empty_sweep")])


def test_a_variant_is_the_overrides_not_every_run_shares():
    overrides = [
        ["env.train.corner_size=2", "seed=0", "logger=none", "experiment=x", "agent=ppo"],
        ["env.train.corner_size=null", "seed=1", "logger=none", "experiment=x", "agent=dqn"],
        ["env.train.corner_size=2", "seed=2", "logger=none", "experiment=x", "agent=ppo"],
    ]
    assert run_variants(overrides) == [
        "env.train.corner_size=2",
        "env.train.corner_size=null",
        "env.train.corner_size=2",
    ]
    assert run_variants([["seed=0", "eval.episodes=8"], ["seed=1", "eval.episodes=8"]]) == ["", ""]


def test_runs_that_differ_in_more_than_the_seed_are_separate_rows(tmp_path):
    for corner in ("2", "null"):
        for seed in (0, 1):
            folder = tmp_path / f"corner_{corner}_seed{seed}"
            summary = write_run(folder, "gaming", seed)
            summary["overrides"] = [f"env.train.corner_size={corner}", f"seed={seed}"]
            (folder / "summary.json").write_text(json.dumps(summary))
    build_report(tmp_path)
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert (
        sorted(results["variant"])
        == ["env.train.corner_size=2"] * 2 + ["env.train.corner_size=null"] * 2
    )
    rows = [line for line in (tmp_path / "report.md").read_text().splitlines() if ENV_ID in line]
    assert len(rows) == 2
    assert all("| env.train.corner_size=" in row and "| 2 |" in row for row in rows)
