"""Debates through the runner: `aligngym run env=pixel_debate oversight=...` and the evidence
debate write the same files, W&B run and report as every job, keep every game's transcript,
and refuse a module of the wrong kind before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import wandb_records

from aligngym import cli
from aligngym.report import build_report

GAMES = ["eval.episodes=30"]


def run(root: Path, *overrides: str) -> int:
    return cli.main(["run", f"runs_root={root}", *overrides])


def only_run_folder(root: Path) -> Path:
    (folder,) = [p.parent for p in root.glob("*/*/.hydra")]
    return folder


def test_a_pixel_debate_run_keeps_every_game_and_logs_them_to_wandb(tmp_path):
    assert run(tmp_path, "env=pixel_debate", "oversight=debate", "logger=wandb", *GAMES) == 0
    folder = only_run_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["oversight"] == "debate"
    assert summary["judge"] == "pixel_classifier" and summary["oversight_role"] == "method"
    assert summary["test"]["episodes"] == 30
    assert 0.0 <= summary["test"]["performance_mean"] <= 1.0
    events = summary["test"]["events"]
    assert summary["test"]["failure_rate"] == pytest.approx(events["convinced_by_lie"])
    assert 0.0 < summary["oversight_metrics"]["oversight/judge_held_out_accuracy"] < 1.0
    games = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    assert [g["label"] for g in games] == ["eval/train"] * 30 + ["eval/test"] * 30
    for game in games:
        assert len(game["moves"]) == 6 and set(game["claims"]) == {"honest", "liar"}
        assert game["verdict"] in range(10)
    correct = [g["verdict"] == g["truth"] for g in games if g["label"] == "eval/test"]
    assert sum(correct) / 30 == pytest.approx(summary["test"]["performance_mean"])
    text = (folder / "transcript.md").read_text()
    assert "honest claims" in text and "liar: reveals" in text and "judge:" in text
    (row,) = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert row["eval/test/performance_mean"] == summary["test"]["performance_mean"]
    records = wandb_records(folder)
    history = [r.history for r in records if r.WhichOneof("record_type") == "history"]
    keys = {item.key or "/".join(item.nested_key) for h in history for item in h.item}
    assert "eval/test/performance_mean" in keys
    (table,) = (folder / "wandb").rglob("transcript_*.table.json")
    table = json.loads(table.read_text())
    assert len(table["data"]) == 60 and "verdict" in table["columns"]


def test_a_protocol_sweep_reports_gap_recovered_and_the_honest_win_rate(tmp_path):
    protocols = "oversight=debate,consultancy,direct,full_information"
    assert run(tmp_path, "-m", "env=pixel_debate", protocols, "logger=none", *GAMES) == 0
    (sweep,) = tmp_path.glob("sweeps/*/*")
    results = pd.read_csv(build_report(sweep) / "results.csv").set_index("oversight")
    assert results.loc["direct", "oversight_role"] == "floor"
    assert results.loc["full_information", "oversight_role"] == "ceiling"
    floor = results.loc["direct", "test_performance_mean"]
    ceiling = results.loc["full_information", "test_performance_mean"]
    debate = results.loc["debate", "test_performance_mean"]
    assert results.loc["debate", "test_gap_recovered"] == pytest.approx(
        (debate - floor) / (ceiling - floor)
    )
    assert results.loc["direct", "test_gap_recovered"] == 0.0
    assert pd.isna(results.loc["direct", "test_honest_win_rate"])  # nobody argued
    assert 0.0 <= results.loc["consultancy", "test_honest_win_rate"] <= 1.0
    report = (sweep / "report.md").read_text()
    assert "| judge |" in report.replace("oversight | judge", "| judge |")
    assert "test honest win rate" in report and "test gap recovered" in report


def test_the_evidence_debate_runs_with_its_scripted_judge(tmp_path):
    assert run(tmp_path, "env=evidence_debate", "logger=none", *GAMES) == 0
    folder = only_run_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["judge"] == "scripted"
    assert "<v_quote>" in (folder / "transcript.jsonl").read_text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["env=pixel_debate", "agent=ppo"], "agent ppo is for single-agent scenarios"),
        (["env=boat_race", "agent=greedy_debater"], "agent greedy_debater is for multi-agent"),
        (["env=boat_race", "oversight=debate"], "oversight=debate is for multi-agent"),
        (["env=pixel_debate", "oversight=none"], "oversight=none is for single-agent"),
        (["env=pixel_debate", "judge=scripted"], "judge=scripted judges"),
        (["env=evidence_debate", "judge=pixel_classifier"], "judge=pixel_classifier judges"),
    ],
)
def test_a_module_of_the_wrong_kind_is_refused_before_any_work(
    tmp_path, capsys, overrides, message
):
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path, "logger=none", *overrides)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    folder = only_run_folder(tmp_path)
    assert not (folder / "metrics.jsonl").exists()


def test_language_model_debaters_argue_through_the_runner(tmp_path):
    overrides = ["env=evidence_debate", "agent=llm_debater", "eval.episodes=1", "logger=none",
                 "agent.model.max_new_tokens=8", "agent.model.device=cpu"]  # fmt: skip
    assert run(tmp_path, *overrides) == 0
    folder = only_run_folder(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["agent_metrics"]["llm/arguments"] == 8  # 4 arguments a game, 2 games
    assert 0.0 <= summary["agent_metrics"]["llm/invalid_argument_rate"] <= 1.0
    games = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    assert all(len(game["moves"]) == 4 for game in games)
