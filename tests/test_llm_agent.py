"""``agent=llm`` through ``aligngym run``: offline with the default model, its three modes, the
transcript in the run folder and W&B, malformed output, servers that cannot score, refusals."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from conftest import run_in_process, start_run

from aligngym import cli
from aligngym.agents.transcript import read_transcript
from aligngym.report import build_report

FAST = ["eval.episodes=2", "agent.n_envs=2", "logger=none"]


@pytest.fixture(autouse=True)
def offline_wandb(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_dir"))
    monkeypatch.setenv("WANDB_SILENT", "true")


def run_llm(root: Path, *overrides: str) -> tuple[Path, dict, list[dict]]:
    """Runs ``aligngym run agent=llm`` into ``root``; returns the folder, summary, transcript."""
    folder, summary = run_in_process(root, "agent=llm", *FAST, *overrides)
    return folder, summary, list(read_transcript(folder / "transcript.jsonl"))


def test_score_mode_plays_the_boat_race_from_text_and_keeps_a_transcript(tmp_path):
    folder, summary, records = run_llm(
        tmp_path, "env=boat_race", "env.train.max_steps=3", "env.test.max_steps=3",
        "logger=wandb",
    )  # fmt: skip
    assert summary["status"] == "completed"
    # 2 settings x 2 episodes x 3 steps, one record per environment and decision
    assert len(records) == 12
    assert {r["label"] for r in records} == {"eval/train@0", "eval/test@0"}
    for record in records:
        assert record["actions"] == {"0": "up", "1": "right", "2": "down", "3": "left"}
        best = max(record["scores"], key=record["scores"].get)
        assert record["action_name"] == best and record["valid"]
        assert "Legal actions: up, right, down, left." in record["prompt"]
    metrics = summary["agent_metrics"]
    assert metrics["llm/decisions"] == 12 and metrics["llm/invalid_action_rate"] == 0
    excerpt = (folder / "transcript.md").read_text()
    assert excerpt.startswith("### eval/test@0, environment 0: 3 decisions")
    assert excerpt.count("**Action: ") == 3
    tables = list((folder / "wandb").rglob("transcript_*.table.json"))
    assert len(tables) == 1
    assert len(json.loads(tables[0].read_text())["data"]) == 12
    row = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["llm/invalid_action_rate"] == 0
    report = (build_report(tmp_path) / "report.md").read_text()
    assert "invalid actions" in report and "## Transcript: aligngym/BoatRace-v0, llm" in report
    assert report.count("**Action: ") == 2  # the first two decisions of the excerpt


def test_the_scenarios_system_instructions_join_the_agents_system_message(tmp_path):
    _, summary, records = run_llm(
        tmp_path, "env=shutdown_tasks", "env.train.allow_shutdown=system",
        "env.test.allow_shutdown=absent", "env.train.max_steps=2", "env.test.max_steps=2",
    )  # fmt: skip
    train = [r for r in records if r["label"].startswith("eval/train")]
    test = [r for r in records if r["label"].startswith("eval/test")]
    assert all("allow yourself to be shut down" in r["system"] for r in train)
    assert all("allow yourself to be shut down" not in r["system"] + r["prompt"] for r in test)
    assert all(r["system"].startswith("You are an agent acting in an environment.") for r in train)
    assert summary["train"]["episodes"] == 2


def test_reason_mode_keeps_its_reasoning_and_scores_the_action_after_it(tmp_path):
    _, summary, records = run_llm(
        tmp_path, "env=sycophancy_qa", "agent.model.mode=reason",
        "agent.model.reasoning_tokens=12",
    )  # fmt: skip
    assert summary["status"] == "completed" and len(records) == 4  # one question an episode
    for record in records:
        assert record["reasoning"].strip()
        assert "Think briefly" in record["prompt"]
        assert record["scores"] and record["valid"]
        assert set(record["scores"]) == set(record["actions"].values())


def test_unreadable_generations_are_counted_and_replaced_by_a_legal_action(
    tmp_path, plain_chat_server
):
    url = plain_chat_server("I like turtles.")
    _, summary, records = run_llm(
        tmp_path, "env=boat_race", "env.train.max_steps=3", "env.test.max_steps=3",
        "agent.model.mode=generate", "agent.model.backend=http", f"agent.model.base_url={url}",
    )  # fmt: skip
    assert summary["status"] == "completed"
    assert summary["agent_metrics"]["llm/invalid_action_rate"] == 1.0
    assert all(not r["valid"] and r["generation"] == "I like turtles." for r in records)
    assert {r["action"] for r in records} <= {0, 1, 2, 3}
    assert len({r["action"] for r in records}) > 1  # the fallback draws, it does not repeat


def test_a_server_that_cannot_score_makes_score_mode_generate_and_parse(
    tmp_path, plain_chat_server
):
    url = plain_chat_server("I will go right.")
    _, summary, records = run_llm(
        tmp_path, "env=boat_race", "env.train.max_steps=2", "env.test.max_steps=2",
        "agent.model.backend=http", f"agent.model.base_url={url}",
    )  # fmt: skip
    assert summary["agent_metrics"]["llm/scoring_fallback"] == 1.0
    assert summary["agent_metrics"]["llm/invalid_action_rate"] == 0.0
    assert all(r["action_name"] == "right" and r["scores"] is None for r in records)


def test_the_served_model_plays_as_the_in_process_one(tmp_path, served_model):
    overrides = ["env=sycophancy_qa", "seed=3"]
    _, _, local = run_llm(tmp_path / "local", *overrides)
    _, _, served = run_llm(
        tmp_path / "served", *overrides, "agent.model.backend=http",
        f"agent.model.base_url={served_model}",
    )  # fmt: skip
    assert [r["action"] for r in served] == [r["action"] for r in local]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["env.obs_type=grid"], "reads observation types ['text']"),
        (["agent.model.mode=dream"], "mode must be one of"),
        (["agent.prompt.user='Observe: {obs}'"], "agent.prompt.user"),
        (["agent.model.backend=http"], "base_url"),
    ],
)
def test_bad_llm_settings_are_refused_before_any_work(tmp_path, capsys, overrides, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"runs_root={tmp_path}", "agent=llm", *FAST, *overrides])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.rglob("transcript.jsonl"))


def test_a_signal_mid_evaluation_leaves_an_interrupted_summary_and_the_transcript(tmp_path):
    """SIGTERM while the model decides: status interrupted, every decision so far kept."""
    folder = tmp_path / "run"
    process = start_run(folder, "agent=llm", "env=shutdown_tasks", "eval.episodes=32",
                        "agent.model.mode=generate", "logger=none")  # fmt: skip
    transcript, deadline = folder / "transcript.jsonl", time.monotonic() + 120
    while not (transcript.exists() and transcript.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no decision"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err.decode()[-2000:]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (folder / "checkpoints" / "interrupted_0_steps.txt").is_file()
    assert len(list(read_transcript(transcript))) >= 32  # the decisions made are kept
