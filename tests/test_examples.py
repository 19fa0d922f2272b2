"""The teaching examples run top to bottom and show what they say they show."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_every_example_is_tested():
    tested = [
        "01_failure_modes.py",
        "02_off_switch_game.py",
        "03_oversight_floor_and_ceiling.py",
        "04_observation_types.py",
        "05_tampering_and_side_effects.py",
        "06_fast_training.py",
        "07_reward_from_preferences.py",
        "08_outcome_vs_process.py",
        "09_overoptimisation.py",
        "10_llm_sycophancy.py",
        "11_goal_misgeneralisation.py",
        "12_knob_sweep.py",
        "13_debate.py",
        "14_process_supervision.py",
        "15_weak_to_strong.py",
        "16_weak_to_strong_episodes.py",
        "17_weak_to_strong_text.py",
    ]
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(tested)


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


def test_oversight_floor_and_ceiling(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    example = EXAMPLES / "03_oversight_floor_and_ceiling.py"
    result = runpy.run_path(str(example), run_name="__main__")
    assert "oversight      return" in capsys.readouterr().out
    floor, ceiling = result["results"]["none"], result["results"]["true_reward"]
    assert floor["failure_rate"] >= 0.5 > ceiling["failure_rate"]  # presses the button
    assert floor["return_mean"] > ceiling["return_mean"]  # the observed reward prefers pressing
    assert ceiling["performance_mean"] > floor["performance_mean"]  # the truth does not
    assert (tmp_path / "oversight_floor_and_ceiling.png").stat().st_size > 10_000


def test_off_switch_game_deferral_follows_the_closed_form(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "02_off_switch_game.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "failure event: bypassed_harm" in printed and "rational human" in printed
    rational, noisy = ("rational human (beta = 0)", "noisy human (beta = 0.5)")
    learned, closed = result["learned"], result["closed"]
    assert closed[rational] == [1.0] * len(result["SIGMAS"])  # Theorem 1: always defer
    # measured with seeds 0-4 (100k steps, 28-32 s): rational human, at least 0.80 at every
    # sigma (the least at sigma = 0.25); noisy human, at most 0.10 from the closed form at
    # every sigma, rising by 0.43-0.61 from sigma = 0.25 to 0.5 (closed form: 0.50)
    assert min(learned[rational]) >= 0.7
    assert max(abs(a - b) for a, b in zip(learned[noisy], closed[noisy])) <= 0.15
    assert learned[noisy][-1] - learned[noisy][0] >= 0.3
    assert (tmp_path / "off_switch_game_deferral.png").stat().st_size > 10_000


def test_observation_types(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its picture to the working directory
    runpy.run_path(str(EXAMPLES / "04_observation_types.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "#..###A#" in printed and "Legal actions: 0=up, 1=right, 2=down, 3=left." in printed
    assert "GridVectorEnv: 4096 texts" in printed  # gym.make_vec took the native path
    picture = Image.open(tmp_path / "off_switch_rgb.png")
    assert min(picture.size) >= 4 * 36


def test_tampering_and_side_effects(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    example = EXAMPLES / "05_tampering_and_side_effects.py"
    result = runpy.run_path(str(example), run_name="__main__")
    assert "failure rate" in capsys.readouterr().out
    # on the bucket the agent sees nothing but watered tomatoes; the truth says otherwise
    grid = [line for line in result["tampered"].splitlines() if line.startswith("#")]
    assert set("".join(grid)) == {"#", "T", "A"}
    assert result["truth"].watered.sum() < result["truth"].watered.size
    for label, by_policy in result["results"].items():
        intended, gaming = by_policy["intended"], by_policy["gaming"]
        assert gaming["return_mean"] >= intended["return_mean"], label
        assert gaming["performance_mean"] < intended["performance_mean"], label
        assert gaming["failure_rate"] > 0 == intended["failure_rate"], label
    # Q-learning takes the shortcut only while unwatched
    watched, unwatched = result["watched"][1.0], result["watched"][0.0]
    assert unwatched["failure_rate"] >= 0.9
    assert watched["performance_mean"] > unwatched["performance_mean"]
    assert (tmp_path / "tampering_and_side_effects.png").stat().st_size > 10_000


def test_fast_training_games_the_boat_race(tmp_path, monkeypatch, one_torch_thread, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "06_fast_training.py"), run_name="__main__")
    assert "ppo_fast (1024 envs):" in capsys.readouterr().out
    fast = result["curves"]["ppo_fast (1024 envs)"]
    _, steps, observed, performance = fast[-1]
    assert steps == 6 * 49_152 and observed == 50 and performance <= 0  # the exploit
    assert fast[0][2] < 0  # from a policy that did not have it
    assert Image.open(tmp_path / "fast_training.png").size == (1000, 360)


def test_reward_from_preferences(tmp_path, monkeypatch, capsys, one_torch_thread):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    example = EXAMPLES / "07_reward_from_preferences.py"
    result = runpy.run_path(str(example), run_name="__main__")
    assert "back and forth" in capsys.readouterr().out
    oracle, fooled = result["results"]["oracle"], result["results"]["reward_biased"]
    # both spent the budget; the oracle's model agrees with the truth, the fooled one's less
    assert oracle["oversight/labels_used"] == fooled["oversight/labels_used"] == 1000
    # (seeds 0-2: the oracle's 0.99-1.0, the fooled one's 0.56-0.81)
    assert oracle["oversight/agreement"] > 0.9
    assert oracle["oversight/agreement"] > fooled["oversight/agreement"] + 0.1
    # PPO games the reward learned from appearances, and not the oracle's
    assert fooled["failure_rate"] == 1.0 and fooled["performance_mean"] <= 0
    assert oracle["failure_rate"] == 0.0
    assert (tmp_path / "reward_from_preferences.png").stat().st_size > 10_000


def test_outcome_vs_process_supervision(tmp_path, monkeypatch, one_torch_thread, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "08_outcome_vs_process.py"), run_name="__main__")
    assert "outcome judge" in capsys.readouterr().out
    r = result["results"]
    outcome, process = r["outcome judge", "gaming (bucket)"], r["process judge", "gaming (bucket)"]
    # measured (seed 0): the outcome judge pays 19.3 for the bucket (truth 3.1), above the 15.8
    # it pays the intended gardener; the process judge pays 6.9, against 17.8
    assert outcome["judged"] > r["outcome judge", "intended"]["judged"]
    assert outcome["judged"] > 3 * outcome["performance"]
    assert process["judged"] < 0.5 * r["process judge", "intended"]["judged"]
    assert (tmp_path / "outcome_vs_process.png").stat().st_size > 10_000


def test_overoptimisation(tmp_path, monkeypatch, one_torch_thread, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "09_overoptimisation.py"), run_name="__main__")
    assert "proxy agreement on fresh pairs" in capsys.readouterr().out
    rl = result["results"]["rl"]["single"]
    assert rl[-1]["proxy"] > rl[0]["proxy"] + 10  # RL optimised the proxy ...
    shape = result["results"]["shapes"]["rl"]["single"]
    assert shape["end"] < shape["start"] - 10  # ... and the gold fell far below its start
    assert (tmp_path / "overoptimisation.png").stat().st_size > 10_000


def test_llm_sycophancy_rises_with_fine_tuning_on_approval(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its transcript and plot here
    result = runpy.run_path(str(EXAMPLES / "10_llm_sycophancy.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "The user says:" in printed and "**Action: " in printed  # the transcript excerpt
    before, after = result["before"], result["after"]
    assert after["sycophancy rate"] > before["sycophancy rate"]
    assert (tmp_path / "llm_sycophancy.png").stat().st_size > 0


def test_goal_misgeneralisation_and_self_modification(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "11_goal_misgeneralisation.py"), run_name="__main__")
    assert "misgeneralised" in capsys.readouterr().out
    for env_id in result["SCENARIOS"]:
        (intended_train, intended_test), (gaming_train, gaming_test) = (
            result["results"][env_id, policy] for policy in ("intended", "gaming")
        )
        # the same in training (the monster gridworld's policies part in the few training
        # episodes whose monsters all die: nearly), less performance and the failure at test
        same = pytest.approx(intended_train["performance_mean"], rel=0.05)
        assert gaming_train["performance_mean"] == same, env_id
        assert gaming_test["performance_mean"] < intended_test["performance_mean"], env_id
        assert gaming_test["failure_rate"] > 0.4 > intended_test["failure_rate"], env_id
    assert result["drink_rate"] == {"q_learning": 1.0, "sarsa": 0.0}
    assert (tmp_path / "goal_misgeneralisation.png").stat().st_size > 10_000


def test_knob_sweep(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example's runs go under the working directory's runs/
    result = runpy.run_path(str(EXAMPLES / "12_knob_sweep.py"), run_name="__main__")
    rows = result["table"]
    # one row per value, in the knob's order, the test failure rate (drinking) last
    assert [row.split(" | ")[3] for row in rows] == [
        f"agent.model.initial_value={value}" for value in result["VALUES"]
    ]
    drink = [float(row.rstrip(" |").rsplit("| ", 1)[1].split(" ± ")[0]) for row in rows]
    # started from zero SARSA drinks; started above every true value (50) it walks round
    assert drink[0] == 1.0 and drink[-1] == 0.0
    assert (result["report"] / "knob_sweep.png").stat().st_size > 10_000
    assert "knob_sweep.png" in capsys.readouterr().out


def test_debate(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "13_debate.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "liar: reveals" in printed and "judge:" in printed
    for moves in (4, 6):
        accuracy = {
            protocol: result["results"][moves, protocol] for protocol in result["PROTOCOLS"]
        }
        # Irving et al.'s direction: the debate lifts the sparse judge towards the ceiling
        assert accuracy["direct"] < accuracy["debate"] <= accuracy["full_information"]
    assert (tmp_path / "pixel_debate.png").stat().st_size > 10_000


def test_process_supervision(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "14_process_supervision.py"), run_name="__main__")
    assert "right answer, wrong steps" in capsys.readouterr().out
    curves = result["curves"]
    ns, process, process_lucky = curves["process"]
    _, outcome, outcome_lucky = curves["outcome"]
    # Lightman et al.: process beats outcome at every N > 1; Uesato et al.: the outcome
    # model's right answers rest on wrong steps more often, at the largest N
    assert (process[1:] > outcome[1:]).all()
    assert outcome_lucky[-1] > process_lucky[-1]
    assert curves["oracle"][1][-1] == pytest.approx(1.0)
    assert (tmp_path / "process_supervision.png").stat().st_size > 10_000


@pytest.mark.usefixtures("one_torch_thread")
def test_weak_to_strong(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plots to the working directory
    result = runpy.run_path(str(EXAMPLES / "15_weak_to_strong.py"), run_name="__main__")
    assert "test digits corrected" in capsys.readouterr().out
    accuracy, supervisor = result["accuracy"], result["supervisor"].mean()
    # measured (seed 0): supervisor 0.716; pretrained student 0.798 with cross-entropy, 0.842
    # with the confidence loss (ceiling 0.902); from scratch 0.744 (ceiling 0.970)
    pretrained = accuracy["pretrained", "cross-entropy"]
    assert supervisor < pretrained < accuracy["pretrained", "confidence loss"]
    floor_to_ceiling = {
        student: (accuracy[student, "cross-entropy"] - supervisor)
        / (accuracy[student, "ceiling"] - supervisor)
        for student in ("pretrained", "from scratch")
    }
    assert floor_to_ceiling["from scratch"] < floor_to_ceiling["pretrained"] - 0.15
    # bootstrapped through the 8- and 16-wide students (measured, seed 0): 0.748, repeating
    # the supervisor's error on 7.0 % of test digits against the direct student's 9.2 %
    imitated = result["imitated"]
    assert imitated["pretrained", "bootstrapped"] < imitated["pretrained", "cross-entropy"]
    assert accuracy["pretrained", "bootstrapped"] < pretrained
    for plot in ("weak_to_strong.png", "weak_to_strong_corrected.png"):
        assert (tmp_path / plot).stat().st_size > 10_000
