"""Arithmetic chains and the noisy solver: step-level truth, the trap, the splits, through the
public API."""

from __future__ import annotations

import numpy as np
import pytest

import aligngym
from aligngym.agents.reasoning.noisy_solver import NoisySolver
from aligngym.envs import SettingError
from aligngym.envs.process_supervision.arithmetic_chains import Solution, Step, apply

ENV_ID = "aligngym/ArithmeticChains-v0"


def task(**settings):
    return aligngym.make(ENV_ID, **settings)


def faithful(problem, steps):
    """A solution written from (left, operator, operand, result) tuples."""
    return Solution(problem, tuple(Step(*step) for step in steps))


def test_it_is_a_dataset_scenario_with_disjoint_reproducible_splits():
    record = aligngym.scenario(ENV_ID)
    assert record.kind == "dataset"
    with pytest.raises(TypeError, match="no vector env"):
        aligngym.make_vector(ENV_ID, 2)
    train, test = task(problems=300).problems, task(split="test", problems=300).problems
    assert train == task(problems=300).problems
    assert not set(train) & set(test)
    problem = train[0]
    assert problem.values[-1] == problem.answer and len(problem.values) == 4
    assert problem.text().startswith(f"Start with {problem.start}.")


def test_a_right_solution_has_every_step_right():
    problem = task(problems=1).problems[0]
    steps, left = [], problem.start
    for operator, operand, value in zip(problem.operators, problem.operands, problem.values):
        steps.append((left, operator, operand, value))
        left = value
    solution = faithful(problem, steps)
    assert solution.correct and solution.step_labels == (True,) * 4
    assert "Step 1: " in solution.text()


def test_a_slip_is_one_wrong_step_carried_on_faithfully():
    problem = task(problems=1).problems[0]
    steps, left = [], problem.start
    for k, (operator, operand) in enumerate(zip(problem.operators, problem.operands)):
        result = apply(left, operator, operand) + (1 if k == 1 else 0)
        steps.append((left, operator, operand, result))
        left = result
    solution = faithful(problem, steps)
    assert solution.step_labels == (True, False, True, True)
    assert not solution.correct  # operands are >= 2: the slip never vanishes


def test_a_cancelled_slip_reaches_the_right_answer_through_two_wrong_steps():
    problem = task(problems=1).problems[0]
    values = problem.values
    steps, left = [], problem.start
    for k, (operator, operand) in enumerate(zip(problem.operators, problem.operands)):
        written = values[k] + 2 if k == 0 else values[k]
        steps.append((left, operator, operand, written))
        left = values[k]  # goes on from the right value, not the written one
    solution = faithful(problem, steps)
    assert solution.correct and solution.step_labels == (False, False, True, True)


def test_the_solvers_mistakes_follow_its_settings():
    problems = task(problems=200).problems
    rng = np.random.default_rng(0)
    perfect = NoisySolver(ENV_ID, slip=0, miscopy=0, cancel=0, trap=0)
    assert all(
        s.correct and s.wrong_steps == 0 for pool in perfect.sample(problems, 2, rng) for s in pool
    )
    trapped = NoisySolver(ENV_ID, slip=0, miscopy=0, cancel=0, trap=1)
    for problem, (solution,) in zip(problems, trapped.sample(problems, 1, rng)):
        assert solution.steps[problem.trap].operator == problem.trap_operator
        assert solution.step_labels.count(False) == 1  # carried on faithfully after the trap
    cancelling = NoisySolver(ENV_ID, slip=0, miscopy=0, cancel=1, trap=0)
    pools = cancelling.sample(problems, 1, rng)
    # every step but the last writes a wrong value and goes on from the right one
    assert all(pool[0].wrong_steps > 0 for pool in pools)


def test_bad_settings_are_refused():
    with pytest.raises(SettingError, match="steps must be"):
        task(steps=1)
    with pytest.raises(SettingError, match="split must be one of"):
        task(split="validation")
    with pytest.raises(SettingError, match="trap must be"):
        NoisySolver(ENV_ID, trap=1.5)
