"""The report command on real run folders built from scripted boat-race evaluations."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aligngym import cli
from aligngym.agents.scripted import ScriptedAgent
from aligngym.envs.core import summarize
from aligngym.evaluation import evaluate as run_episodes
from aligngym.report import (
    NoRunsError,
    build_report,
    load_curves,
    main,
    run_variants,
    swept_knob,
    variant_order,
)
from aligngym.run_logging import write_summary, write_traceback

ENV_ID = "aligngym/BoatRace-v0"
AGENTS = ("intended", "gaming")
SEEDS = (0, 1, 2)
SETTINGS = {"train": {"track": "extended"}, "test": {"track": "original"}}
EPISODES = 4


class NoisyScripted:
    """A scripted policy whose actions are replaced by random ones with probability ``noise``."""

    def __init__(self, policy_name: str, seed: int, noise: float):
        self.agent = ScriptedAgent(ENV_ID, policy_name)
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def watch(self, env) -> None:
        self.agent.watch(env)

    def act(self, observations) -> np.ndarray:
        actions = np.asarray(self.agent.act(observations))
        random = self.rng.random(len(actions)) < self.noise
        return np.where(random, self.rng.integers(0, 4, len(actions)), actions)


def evaluate(policy_name: str, seed: int, noise: float, **settings) -> dict:
    """Summarises episodes of a scripted policy whose actions are randomised with p=noise."""
    agent = NoisyScripted(policy_name, seed, noise)
    settings = {"max_steps": 30, **settings}
    return summarize(run_episodes(agent, ENV_ID, settings, EPISODES, seed=seed))


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
                "judge": "",
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


def write_sweep(root: Path, key: str, values: Sequence[str]) -> None:
    """Runs of a sweep over ``key`` (overrides ``key=value``), seeds 0 and 1 of each value."""
    for value in values:
        for seed in (0, 1):
            folder = root / f"{key}_{value}_seed{seed}"
            summary = write_run(folder, "gaming", seed)
            summary["overrides"] = [f"{key}={value}", f"seed={seed}"]
            (folder / "summary.json").write_text(json.dumps(summary))


def test_runs_that_differ_in_more_than_the_seed_are_separate_rows(tmp_path):
    write_sweep(tmp_path, "env.train.corner_size", ("2", "null"))
    build_report(tmp_path)
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert (
        sorted(results["variant"])
        == ["env.train.corner_size=2"] * 2 + ["env.train.corner_size=null"] * 2
    )
    rows = [line for line in (tmp_path / "report.md").read_text().splitlines() if ENV_ID in line]
    assert len(rows) == 2
    assert all("| env.train.corner_size=" in row and "| 2 |" in row for row in rows)


def test_a_knob_sweep_is_ordered_by_value_and_plotted_against_it(tmp_path):
    write_sweep(tmp_path, "env.train.max_steps", ("30", "5", "10"))
    build_report(tmp_path)
    rows = [line for line in (tmp_path / "report.md").read_text().splitlines() if ENV_ID in line]
    assert [row.split(" | ")[3] for row in rows] == [
        f"env.train.max_steps={steps}" for steps in ("5", "10", "30")
    ]
    with Image.open(tmp_path / "knob_sweep.png") as image:
        assert image.format == "PNG" and image.height >= 300
    assert "`knob_sweep.png`" in (tmp_path / "report.md").read_text()


def test_the_knob_of_a_sweep_is_one_setting_over_several_values():
    assert swept_knob(["a=2", "a=10", "a=null"]) == "a"
    assert swept_knob(["a=2"]) is None  # one value: nothing swept
    assert swept_knob(["a=2", "b=3"]) is None  # two settings
    assert swept_knob(["a=2,b=3", "a=3,b=3"]) is None  # a variant of two items
    assert swept_knob(["", "a=2"]) is None
    assert sorted(["a=null", "a=10", "a=2.5"], key=variant_order) == ["a=2.5", "a=10", "a=null"]


def write_summary_file(root: Path, run: str, oversight: str, seed: int, perf, **extra) -> dict:
    """A completed run's summary.json whose train/test performance_mean are ``perf``."""
    summary = {
        "status": "completed",
        "scenario": ENV_ID,
        "agent": "ppo",
        "oversight": oversight,
        "seed": seed,
        "timesteps": 200,
        "overrides": [f"oversight={oversight}", f"seed={seed}", *extra.pop("overrides", [])],
    }
    for setting, value in zip(("train", "test"), perf):
        summary[setting] = {"episodes": 4, "return_mean": 1.0, "performance_mean": value}
    summary.update(extra)
    (root / run).mkdir(parents=True)
    write_summary(root / run, summary)
    return summary


def test_gap_recovered_against_the_floor_and_ceiling_of_the_same_variant(tmp_path):
    # two variants with their own floor (oversight none) and ceiling (true_reward); the method
    # (preferences) swept over its own knob, which makes rows but not floors
    perf = {
        ("none", "2"): [(0.0, 10.0), (2.0, 10.0)],  # floor means (1, 10)
        ("true_reward", "2"): [(9.0, 30.0), (11.0, 30.0)],  # ceiling means (10, 30)
        ("preferences", "2"): [(5.5, 20.0), (7.3, 25.0)],
        ("none", "null"): [(4.0, 3.0)],
        ("true_reward", "null"): [(4.0, 5.0)],  # train: ceiling == floor
        ("preferences", "null"): [(8.0, 4.0)],
    }
    for (oversight, corner), values in perf.items():
        for seed, value in enumerate(values):
            overrides = [f"env.train.corner_size={corner}"]
            if oversight == "preferences":
                overrides.append(f"oversight.label_budget={100 * (seed + 1)}")
            write_summary_file(
                tmp_path,
                f"{oversight}_{corner}_{seed}",
                oversight,
                seed,
                value,
                overrides=overrides,
            )
    build_report(tmp_path)
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False, na_values=[""])
    results = results.set_index("run")
    # oversight=... never makes a variant; oversight.label_budget does
    assert results.loc["none_2_0", "variant"] == "env.train.corner_size=2"
    assert results.loc["preferences_2_1", "variant"] == (
        "env.train.corner_size=2,oversight.label_budget=200"
    )
    expected = {
        "preferences_2_0": ((5.5 - 1) / 9, (20 - 10) / 20),
        "preferences_2_1": ((7.3 - 1) / 9, (25 - 10) / 20),
        "none_2_0": (-1 / 9, 0.0),
        "none_2_1": (1 / 9, 0.0),
        "true_reward_2_0": (8 / 9, 1.0),
        "preferences_null_0": (math.nan, (4 - 3) / 2),
    }
    for run, (train, test) in expected.items():
        row = results.loc[run]
        assert row["test_gap_recovered"] == pytest.approx(test), run
        if math.isnan(train):  # ceiling == floor: NaN, not inf
            assert math.isnan(row["train_gap_recovered"]), run
        else:
            assert row["train_gap_recovered"] == pytest.approx(train), run
    assert results.loc["preferences_2_0", "train_performance_floor"] == pytest.approx(1.0)
    assert results.loc["preferences_2_0", "test_performance_ceiling"] == pytest.approx(30.0)
    # report.md: a gap column per setting, mean ± std over seeds of the group
    text = (tmp_path / "report.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| scenario"))
    assert header.endswith("| train gap recovered | test gap recovered |")
    row = next(
        line
        for line in text.splitlines()
        if "| preferences |" in line and "label_budget=100" in line
    )
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[-2:] == [f"{(5.5 - 1) / 9:.2f} ± 0.00", "0.50 ± 0.00"]
    floor_row = next(
        line for line in text.splitlines() if "| none |" in line and "corner_size=null" in line
    )
    assert floor_row.split("|")[-3].strip() == "–"  # train: ceiling == floor


def test_an_oversight_knob_the_floor_sets_too_matches_the_floor_of_the_same_value(tmp_path):
    # a weak-to-strong sweep: the supervisor's view is an oversight knob that the floor (the
    # supervisor alone) sets too, so each view has its own floor; the ceiling never sets it
    perf = {("weak_supervisor", "top"): 0.5, ("weak_supervisor", "left"): 0.7,
            ("weak_to_strong", "top"): 0.8, ("weak_to_strong", "left"): 0.8}  # fmt: skip
    for (oversight, view), value in perf.items():
        role = "floor" if oversight == "weak_supervisor" else "method"
        write_summary_file(tmp_path, f"{oversight}_{view}", oversight, 0, (value, value),
                           overrides=[f"oversight.module.weak_view={view}"],
                           oversight_role=role)  # fmt: skip
    write_summary_file(
        tmp_path, "ceiling", "strong_ceiling", 0, (0.9, 0.9), oversight_role="ceiling"
    )
    build_report(tmp_path)
    results = pd.read_csv(tmp_path / "results.csv").set_index("run")
    assert results.loc["weak_to_strong_top", "test_gap_recovered"] == pytest.approx(0.3 / 0.4)
    assert results.loc["weak_to_strong_left", "test_gap_recovered"] == pytest.approx(0.1 / 0.2)
    assert results.loc["weak_supervisor_left", "test_performance_floor"] == pytest.approx(0.7)


def test_no_gap_recovered_without_a_ceiling(tmp_path):
    write_summary_file(tmp_path, "floor", "none", 0, (1.0, 2.0))
    write_summary_file(tmp_path, "method", "preferences", 0, (3.0, 4.0))
    build_report(tmp_path)
    results = pd.read_csv(tmp_path / "results.csv")
    assert results["train_gap_recovered"].isna().all()
    assert results["test_gap_recovered"].isna().all()
    assert "gap recovered" not in (tmp_path / "report.md").read_text()


def test_labels_used_and_gap_recovered_per_method_in_the_report(tmp_path):
    runs = {
        "none": [(0.0, 0.0)] * 2,
        "true_reward": [(10.0, 10.0)] * 2,
        "preferences": [(5.0, 4.0), (7.0, 8.0)],
        "preferences_noisy": [(1.0, 1.0), (3.0, 1.0)],
    }
    labels = {"preferences": 500, "preferences_noisy": 300}
    for oversight, values in runs.items():
        for seed, value in enumerate(values):
            metrics = {"oversight/labels_used": labels[oversight]} if oversight in labels else {}
            write_summary_file(tmp_path, f"{oversight}_{seed}", oversight, seed, value,
                               oversight_metrics=metrics)  # fmt: skip
    build_report(tmp_path)
    lines = (tmp_path / "report.md").read_text().splitlines()
    heading = next(line for line in lines if line.startswith("| scenario"))
    header = [cell.strip() for cell in heading.split("|")]
    rows = {
        cells[3]: dict(zip(header, cells))
        for cells in ([c.strip() for c in line.split("|")] for line in lines if "| ppo |" in line)
    }
    assert rows["preferences"]["labels used"] == "500.00 ± 0.00"
    assert rows["preferences_noisy"]["labels used"] == "300.00 ± 0.00"
    assert rows["none"]["labels used"] == "–"  # no overseer, no labels
    assert rows["preferences"]["test gap recovered"] == "0.60 ± 0.20"
    assert rows["preferences_noisy"]["test gap recovered"] == "0.10 ± 0.00"
    figure = Image.open(tmp_path / "gap_recovered.png")
    assert figure.size[0] > 300 and len(np.unique(np.asarray(figure.convert("RGB")))) > 10


def test_no_knob_sweep_figure_where_no_setting_is_swept(report):
    assert not (report / "knob_sweep.png").exists()  # the runs differ in agent and seed only


def test_no_gap_recovered_figure_without_floor_and_ceiling(sweep, report):
    assert not (report / "gap_recovered.png").exists()
    assert "gap_recovered.png" not in (report / "report.md").read_text()


def test_oversight_figures_and_the_trained_return_reach_results_csv(tmp_path):
    write_summary_file(
        tmp_path,
        "method",
        "preferences",
        0,
        (3.0, 4.0),
        oversight_metrics={"oversight/labels": 120, "oversight/label_accuracy": 0.75},
    )
    summary_path = tmp_path / "method" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["train"]["trained_return_mean"] = 17.5
    summary["test"]["trained_return_mean"] = 12.0
    summary_path.write_text(json.dumps(summary))
    build_report(tmp_path)
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    assert row["oversight/labels"] == 120 and row["oversight/label_accuracy"] == 0.75
    assert row["train_trained_return_mean"] == 17.5 and row["test_trained_return_mean"] == 12.0


@pytest.mark.parametrize(
    "content", ["", '{"status": "completed", "scenario": "aligng', "[1, 2]", "\xff\xfe"]
)
def test_a_corrupt_summary_is_named_and_the_rest_reported(sweep, tmp_path, capsys, content):
    root, summaries = sweep
    folder = tmp_path / "sweep"
    shutil.copytree(root, folder)
    broken = folder / "ppo_seed9" / "summary.json"
    broken.parent.mkdir()
    if content == "\xff\xfe":
        broken.write_bytes(b"\xff\xfe\x00")
    else:
        broken.write_text(content)
    capsys.readouterr()
    assert cli.main(["report", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"aligngym report: warning: {broken} is corrupt" in err
    results = pd.read_csv(folder / "results.csv", keep_default_na=False)
    assert len(results) == len(summaries) + 2
    corrupt = results[results["status"] == "corrupt"]
    assert list(corrupt["run"]) == ["ppo_seed9"] and corrupt.iloc[0]["error"]
    # the other runs are reported as before: variants untouched by the unreadable overrides
    assert (results[results["status"] == "completed"]["variant"] == "").all()
    text = (folder / "report.md").read_text()
    assert (
        f"{len(summaries) + 2} runs: {len(summaries)} completed, 1 failed, 1 with a corrupt" in text
    )
    assert "| ppo_seed9 | corrupt |" in text.split("## Failed runs", 1)[1]
    assert "| intended |" in text and "| gaming |" in text


def test_write_summary_replaces_the_file_atomically(tmp_path):
    first = write_summary(tmp_path, {"status": "running", "timesteps": 100})
    # a reader that opened the summary before a rewrite still reads a whole summary: the
    # rewrite puts a new file in place instead of truncating the one being read
    with first.open() as reader:
        write_summary(tmp_path, {"status": "completed", "timesteps": 200, "pad": "x" * 10_000})
        assert json.loads(reader.read()) == {"status": "running", "timesteps": 100}
    assert json.loads(first.read_text())["status"] == "completed"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["summary.json"]


def test_a_failed_write_leaves_the_previous_summary(tmp_path):
    write_summary(tmp_path, {"status": "running"})
    with pytest.raises(TypeError):
        write_summary(tmp_path, {"status": "completed", "model": object()})
    assert json.loads((tmp_path / "summary.json").read_text()) == {"status": "running"}
    write_traceback(tmp_path, "Traceback: ...\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["summary.json", "traceback.txt"]


def test_a_folder_whose_summaries_are_all_corrupt_is_still_reported(tmp_path, capsys):
    for run, content in (("a", ""), ("b", '{"status": "comp')):
        (tmp_path / run).mkdir()
        (tmp_path / run / "summary.json").write_text(content)
    assert cli.main(["report", str(tmp_path)]) == 0
    assert capsys.readouterr().err.count("is corrupt") == 2
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["status"]) == ["corrupt", "corrupt"]
    text = (tmp_path / "report.md").read_text()
    assert "2 runs: 0 completed, 0 failed, 2 with a corrupt summary.json." in text
    assert "ValueError: the file is empty" in text
