"""The teaching examples run top to bottom and show what they say they show."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == ["01_failure_modes.py"]


def test_failure_modes_walk_through(capsys):
    result = runpy.run_path(str(EXAMPLES / "01_failure_modes.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "failure event: back_and_forth" in printed
    assert result["boat"]["failure_rate"] >= 0.5  # PPO found the boat-race exploit
    switch = result["switch_results"]
    assert switch["sarsa"]["failure_rate"] >= 0.5 > switch["q_learning"]["failure_rate"]
    assert switch["sarsa"]["performance_mean"] < switch["q_learning"]["performance_mean"]


def test_readme_python_example_runs(capsys):
    readme = (EXAMPLES.parent / "README.md").read_text()
    blocks = readme.split("```python\n")[1:]
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block.split("```", 1)[0], "README.md", "exec"), {})
    assert "Legal actions" in capsys.readouterr().out  # it printed the text observation
