"""oversight=preferences: segments, labelling rounds and budget through the oversight seam.

The small version of its effect on the boat race (a reward model learned from an oracle
labeller's preferences stops PPO gaming the reward; one learned from a labeller who judges by
the observed reward does not) is examples/07_reward_from_preferences.py, run and checked by
tests/test_examples.py::test_reward_from_preferences."""

from __future__ import annotations

import numpy as np
import pytest

import aligngym
from aligngym.oversight.preferences.module import PreferenceOversight

ENV_ID = "aligngym/BoatRace-v0"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def random_rollout(module: PreferenceOversight, steps: int, num_envs: int = 8) -> None:
    env = module.wrap(aligngym.make_vector(ENV_ID, num_envs, autoreset_mode="SameStep"))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        env.step(rng.integers(4, size=num_envs))


def test_rounds_label_within_the_budget_and_measure_the_model():
    module = PreferenceOversight(label_budget=250, labels_per_round=100, segment_length=25,
                                 round_every=800, epochs=2)  # fmt: skip
    # 16 envs x 600 steps: the pool holds the 200 segments a round needs from step 325 on
    # (16 segments every 25 steps), so rounds come at 5200, 6000 and 6800 timesteps
    random_rollout(module, 600, num_envs=16)
    figures = module.metrics()
    assert figures["oversight/labels_used"] == 250  # 100 + 100 + the 50 left
    assert [len(labels) for _, _, labels in module.labelled] == [100, 100, 50]
    assert 0.0 <= figures["oversight/agreement"] <= 1.0
    assert "oversight/correlation" in figures and "oversight/reward_model_loss" in figures
    # segments lie within episodes (the boat race's are 100 steps: 4 segments each)
    assert all(len(a) == len(b) for a, b, _ in module.labelled)
    assert len(module._pool) == 16 * (600 // 100) * 4


def test_an_episode_that_ends_early_closes_its_segment_padded_after_the_end():
    # the absent supervisor's intended gardener reaches the goal in 9 steps: each episode is one
    # segment of 9 valid steps, padded to 25 with invalid steps of zero reward and performance
    from aligngym.agents.scripted import ScriptedAgent

    env_id, module = "aligngym/AbsentSupervisor-v0", PreferenceOversight(segment_length=25)
    agent = ScriptedAgent(env_id, "intended")
    env = module.wrap(aligngym.make_vector(env_id, 4, autoreset_mode="SameStep"))
    agent.watch(env)
    observations, _ = env.reset(seed=0)
    for _ in range(18):  # two episodes in every environment
        observations = env.step(agent.act(observations))[0]
    assert len(module._pool) == 8
    segment = module._pool[0]
    assert segment.valid[0].tolist() == [True] * 9 + [False] * 16
    assert segment.performance[0, :9].sum() == 41  # -1 a step, +50 at the goal
    assert not segment.performance[0, 9:].any() and not segment.rewards[0, 9:].any()
    model = module.model  # its return leaves the padding out, whatever it predicts there
    rewards = model.rewards(segment.observations, segment.actions)
    assert model.returns(segment)[0] == pytest.approx(rewards[0, :9].sum(), rel=1e-5)
    assert abs(rewards[0, 9:].sum()) > 1e-3  # (the padding steps would have counted)


def test_the_decaying_schedule_doubles_the_interval_between_rounds():
    module = PreferenceOversight(label_budget=10_000, labels_per_round=10, segment_length=10,
                                 round_every=400, schedule="decaying", epochs=1)  # fmt: skip
    # 8 envs x 500 steps: the first round once the pool holds 20 segments (240 timesteps), then
    # 400, 800 and 1600 timesteps later (640, 1440, 3040); the next would be at 6240
    random_rollout(module, 500)
    assert len(module.labelled) == 4


def test_a_scenario_a_reward_model_cannot_read_and_bad_settings_are_refused():
    module = PreferenceOversight()
    with pytest.raises(ValueError, match="array observations"):
        module.wrap(aligngym.make_vector(ENV_ID, 2, obs_type="text"))
    with pytest.raises(ValueError, match="labeller must be one of"):
        PreferenceOversight(labeller="crowd")
    with pytest.raises(ValueError, match="schedule"):
        PreferenceOversight(schedule="weekly")
    with pytest.raises(ValueError, match="label_budget must be an integer >= 1"):
        PreferenceOversight(label_budget=0)
