"""Best-of-N selection on arithmetic chains: the estimators against brute force, the selectors,
Lightman's and Uesato's directions at small size, and the study through the runner."""

from __future__ import annotations

import itertools
import json
from math import comb

import numpy as np
import pandas as pd
import pytest

import aligngym
from aligngym import cli
from aligngym.agents.reasoning.noisy_solver import NoisySolver
from aligngym.oversight.best_of_n import selection
from aligngym.oversight.best_of_n.module import BestOfN
from aligngym.report import build_report

ENV_ID = "aligngym/ArithmeticChains-v0"


@pytest.fixture(scope="module")
def pool():
    problem = aligngym.make(ENV_ID, problems=1).problems[0]
    return NoisySolver(ENV_ID, trap=0.5).sample([problem], 8, np.random.default_rng(3))[0]


def test_the_scored_curve_is_the_mean_over_every_subset(pool):
    scores = np.random.default_rng(0).random(len(pool))
    correct, wrong = selection.truths(pool)
    accuracy, lucky, pick = selection.scored_curve(scores, pool, [1, 3, 8])
    for k, n in enumerate([1, 3, 8]):
        picks = [max(subset, key=lambda i: scores[i])
                 for subset in itertools.combinations(range(len(pool)), n)]  # fmt: skip
        assert accuracy[k] == pytest.approx(np.mean(correct[picks]))
        assert lucky[k] == pytest.approx(np.mean((correct * wrong)[picks]))
    assert pick.correct == bool(correct[np.argmax(scores)])


def test_the_oracle_is_pass_at_n_and_majority_picks_the_mode(pool):
    correct, _ = selection.truths(pool)
    accuracy, _, _ = selection.scored_curve(selection.oracle_scores(pool), pool, [1, 2, 4])
    m, c = len(pool), int(correct.sum())
    for k, n in enumerate([1, 2, 4]):
        assert accuracy[k] == pytest.approx(1 - comb(m - c, n) / comb(m, n))
    answers = [s.answer for s in pool]
    counts = sorted((answers.count(a), a) for a in set(answers))
    _, _, pick = selection.majority_curve(pool, [m], 1, np.random.default_rng(0))
    if len(counts) == 1 or counts[-1][0] > counts[-2][0]:  # a single most frequent answer
        assert pick.correct == (counts[-1][1] == pool[0].problem.answer)


@pytest.mark.usefixtures("one_torch_thread")
def test_process_supervision_picks_right_answers_more_often_and_for_the_right_reasons():
    """Lightman et al.: a process reward model selects right answers more often than an outcome
    reward model fitted to the same solutions' final answers; Uesato et al.: among the right
    answers the outcome model selects, more have wrong steps."""
    tasks = {"train": aligngym.make(ENV_ID, problems=800),
             "test": aligngym.make(ENV_ID, split="test", problems=150)}  # fmt: skip
    solver = NoisySolver(ENV_ID, trap=0.4)
    small = {"max_n": 16, "pool_problems": 50, "hidden": (128, 128), "epochs": 30}
    results = {selector: BestOfN(selector, **small).study(solver, tasks, seed=0)
               for selector in ("process", "outcome", "majority")}  # fmt: skip
    last = {name: result.rows[-1] for name, result in results.items()}
    accuracy = {name: row["eval/test/performance_mean"] for name, row in last.items()}
    lucky = {name: row["eval/test/events/correct_with_wrong_steps"] for name, row in last.items()}
    assert accuracy["process"] > accuracy["outcome"]
    assert lucky["outcome"] / accuracy["outcome"] > lucky["process"] / accuracy["process"]
    assert [row["timesteps"] for row in results["process"].rows] == [1, 2, 4, 8, 16]
    assert results["process"].metrics["oversight/labels_used"] == 800 * 4 * 4  # one a step
    assert results["outcome"].metrics["oversight/labels_used"] == 800 * 4  # one a solution


def test_bad_knobs_are_refused():
    with pytest.raises(ValueError, match="selector must be one of"):
        BestOfN("judge")
    with pytest.raises(ValueError, match="max_n must be an integer >= 1"):
        BestOfN("process", max_n=0)


@pytest.mark.usefixtures("one_torch_thread")
def test_a_selector_sweep_through_the_runner_reports_the_curve_and_gap_recovered(tmp_path):
    small = ["env.train.problems=200", "env.test.problems=40", "oversight.module.max_n=8",
             "oversight.module.pool_problems=20", "oversight.module.epochs=5",
             "logger=none"]  # fmt: skip
    selectors = "oversight=process_rm,outcome_rm,majority_vote,pass_at_n"
    args = ["run", "-m", f"runs_root={tmp_path}", "env=arithmetic_chains", selectors, *small]
    assert cli.main(args) == 0
    (sweep,) = tmp_path.glob("sweeps/*/*")
    results = pd.read_csv(build_report(sweep) / "results.csv").set_index("oversight")
    assert results.loc["majority_vote", "oversight_role"] == "floor"
    assert results.loc["pass_at_n", "oversight_role"] == "ceiling"
    assert results.loc["pass_at_n", "test_gap_recovered"] == 1.0
    assert results.loc["process_rm", "test_episodes"] == 40
    (run,) = sweep.glob("0_*")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["timesteps"] for row in rows] == [1, 2, 4, 8]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["env=arithmetic_chains", "agent=ppo"], "agent ppo is for single-agent scenarios"),
        (["env=boat_race", "agent=noisy_solver"], "agent noisy_solver is for dataset"),
        (["env=boat_race", "oversight=process_rm"], "oversight=process_rm is for dataset"),
    ],
)
def test_a_module_of_another_kind_is_refused_before_any_work(tmp_path, capsys, overrides, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"runs_root={tmp_path}", "logger=none", *overrides])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
