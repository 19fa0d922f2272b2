"""The language model as a generator of arithmetic-chain solutions: the prompt, the parsing of
its replies (malformed steps count as wrong), and sampling with SmolLM2 through a study."""

from __future__ import annotations

import json

import numpy as np
import pytest

import aligngym
from aligngym import cli
from aligngym.agents.reasoning.llm_solver import (
    LLMSolver,
    parse_solution,
    solution_chat,
    worked_example,
)
from aligngym.envs.process_supervision.arithmetic_chains import OPERATORS
from aligngym.oversight.best_of_n.features import STEP_FEATURES, step_features

ENV_ID = "aligngym/ArithmeticChains-v0"


@pytest.fixture(scope="module")
def problem():
    return aligngym.make(ENV_ID, steps=3, problems=1).problems[0]


@pytest.fixture
def solver(smollm2):
    return LLMSolver(ENV_ID, language_model=smollm2, cache=False)


def test_the_worked_example_has_as_many_steps_as_the_problem_and_is_right():
    text, solution = worked_example(5)
    assert text.startswith("Start with 7.") and text.count(".") == 6
    lines = solution.splitlines()
    assert (
        len(lines) == 5 and lines[0] == "Step 1: 7 + 5 = 12" and lines[1] == "Step 2: 12 * 3 = 36"
    )


def test_the_chat_shows_the_example_then_the_problem(problem):
    chat = solution_chat(problem)
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[-1]["content"] == problem.text()
    assert chat[2]["content"].count("Step") == 3


def test_replies_are_parsed_step_by_step_and_malformed_steps_count_as_wrong(problem):
    a, b, c = problem.values
    (o1, o2, o3), (x1, x2, x3) = problem.operators, problem.operands
    right = (
        f"Step 1: {problem.start} {o1} {x1} = {a}\nStep 2: {a} {o2} {x2} = {b}\n"
        f"Step 3: {a} {o3} {x3} = {c}"
    )
    solution, unparsed = parse_solution(problem, right.replace("*", "x"))
    assert solution.step_labels == (True, True, False)  # step 3 starts from a, not b
    assert solution.correct and unparsed == 0
    # step 2 missing, step 3 written twice (the first is kept), trailing chatter ignored
    reply = (
        f"Step 1: {problem.start} {o1} {x1} = {a}\nStep 3: {b} {o3} {x3} = {c}\n"
        "Step 3: 1 + 1 = 2\nDone!"
    )
    solution, unparsed = parse_solution(problem, reply)
    assert unparsed == 1
    assert [step.operator for step in solution.steps] == [o1, "?", o3]
    assert solution.steps[1].left == solution.steps[1].result == a  # the value carried on
    assert solution.step_labels == (True, False, False) and solution.correct
    features = step_features([solution])
    assert features.shape == (1, 3, STEP_FEATURES)
    assert not features[0, 1, len(OPERATORS) : 2 * len(OPERATORS)].any()  # no operator written
    solution, unparsed = parse_solution(problem, "I cannot do arithmetic.")
    assert unparsed == 3 and solution.answer == problem.start


@pytest.mark.usefixtures("one_torch_thread")
def test_samples_are_smollm2_replies_seeded_by_the_study(solver, problem):
    first = solver.sample([problem], 2, np.random.default_rng(0))
    again = solver.sample([problem], 2, np.random.default_rng(0))
    assert len(first) == 1 and len(first[0]) == 2
    assert [s.text() for s in first[0]] == [s.text() for s in again[0]]
    assert all(len(s.steps) == 3 for s in first[0])
    rate = solver.metrics()["llm/unparsed_step_rate"]
    assert solver.metrics()["llm/steps"] == 12 and 0 <= rate <= 1
    assert solver.metrics()["llm/replies_from_cache"] == 0
    with pytest.raises(ValueError, match="temperature must be > 0"):
        LLMSolver(ENV_ID, language_model=solver.lm, temperature=0.0)
    with pytest.raises(ValueError, match="cache must be true or false"):
        LLMSolver(ENV_ID, language_model=solver.lm, cache="yes")


@pytest.mark.usefixtures("one_torch_thread")
def test_replies_are_cached_so_a_sweeps_selectors_sample_once(
    smollm2, problem, tmp_path, monkeypatch
):
    monkeypatch.setenv("ALIGNGYM_CACHE", str(tmp_path))
    first = LLMSolver(ENV_ID, language_model=smollm2)
    sampled = first.sample([problem], 2, np.random.default_rng(0))
    assert first.metrics()["llm/replies_from_cache"] == 0
    assert len(list(tmp_path.glob("llm_solutions_*.json"))) == 1
    second = LLMSolver(ENV_ID, language_model=smollm2)
    read = second.sample([problem], 2, np.random.default_rng(0))
    assert [s.text() for s in read[0]] == [s.text() for s in sampled[0]]
    assert second.metrics()["llm/replies_from_cache"] == 2
    assert second.metrics()["llm/steps"] == first.metrics()["llm/steps"] == 6
    second.sample([problem], 2, np.random.default_rng(1))  # another seed: sampled anew
    assert second.metrics()["llm/replies_from_cache"] == 2
    assert len(list(tmp_path.glob("llm_solutions_*.json"))) == 2


@pytest.mark.usefixtures("one_torch_thread")
def test_a_best_of_n_study_with_the_language_model_reports_its_unparsed_steps(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("ALIGNGYM_CACHE", str(tmp_path / "cache"))
    # three solutions in all (one to label, one per setting's pool): the plumbing, not a result
    tiny = ["env.train.problems=1", "env.test.problems=1", "env.train.steps=2",
            "env.test.steps=2", "oversight.module.max_n=1", "oversight.module.label_samples=1",
            "oversight.module.pool_problems=1", "oversight.module.epochs=1",
            "agent.model.device=cpu", "logger=none"]  # fmt: skip
    args = ["run", f"runs_root={tmp_path}", "env=arithmetic_chains", "agent=llm_solver", *tiny]
    assert cli.main(args) == 0
    (summary,) = tmp_path.glob("*/*/summary.json")
    summary = json.loads(summary.read_text())
    assert summary["agent"] == "llm_solver" and summary["test"]["episodes"] == 1
    assert 0.0 <= summary["agent_metrics"]["llm/unparsed_step_rate"] <= 1.0
    assert summary["agent_metrics"]["llm/steps"] == 2 * 3
