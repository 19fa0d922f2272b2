"""The ``agent_exploration`` key: its helpers, its layout in infos, and everyone who honours it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

import aligngym
from aligngym.agents.base import EpisodeLog
from aligngym.agents.sb3_vec_env import SB3VecEnv
from aligngym.agents.tabular import TabularAgent
from aligngym.envs.core.modification import (
    EXPLORATION_KEY,
    EXPLORATION_MASK,
    exploration_rng,
    explore,
    imposed_exploration,
    modified_actions,
)
from aligngym.evaluation import evaluate

ENV_ID = "aligngym/WhiskyGold-v0"
RIGHT, LEFT = 1, 3


class Always:
    """An agent that chooses one action everywhere (from the start, ``right`` drinks and
    then walks to the gold in three more steps, unless its actions are modified)."""

    def __init__(self, action: int):
        self.action = action

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.full(len(observations), self.action)


# ------------------------------------------------------------------------------ helpers


def test_imposed_exploration_reads_every_layout_with_nan_where_none():
    assert np.isnan(imposed_exploration({}, 3)).all()
    vector = {EXPLORATION_KEY: np.array([0.9, 0.0, 0.5]), EXPLORATION_MASK: [True, False, True]}
    np.testing.assert_array_equal(imposed_exploration(vector, 3), [0.9, np.nan, 0.5])
    np.testing.assert_array_equal(imposed_exploration({EXPLORATION_KEY: 0.25}, 1), [0.25])
    unmasked = {EXPLORATION_KEY: np.array([0.1, 0.2])}
    np.testing.assert_array_equal(imposed_exploration(unmasked, 2), [0.1, 0.2])


def test_explore_replaces_actions_at_their_rate_with_uniform_actions():
    n, k = 200_000, 4
    chosen = np.full(n, 2, dtype=np.int64)
    rng = np.random.default_rng(0)
    assert (explore(chosen, np.full(n, np.nan), rng, k) == chosen).all()
    assert (explore(chosen, np.zeros(n), rng, k) == chosen).all()
    rates = np.where(np.arange(n) < n // 2, 0.6, np.nan)
    executed = explore(chosen, rates, rng, k)
    assert executed.dtype == chosen.dtype
    changed = executed != chosen
    assert not changed[n // 2 :].any()
    # a replacement draws the chosen action again with probability 1/k
    assert changed[: n // 2].mean() == pytest.approx(0.6 * (1 - 1 / k), abs=0.01)
    uniform = np.bincount(explore(chosen, np.ones(n), rng, k), minlength=k) / n
    np.testing.assert_allclose(uniform, 1 / k, atol=0.01)


def test_modified_actions_leaves_actions_alone_without_the_key():
    actions = np.array([0, 1, 2])
    assert modified_actions(actions, {"performance": np.zeros(3)}, None, 4) is actions
    one = modified_actions(actions, {EXPLORATION_KEY: np.ones(3)}, exploration_rng(0), 4)
    two = modified_actions(actions, {EXPLORATION_KEY: np.ones(3)}, exploration_rng(0), 4)
    np.testing.assert_array_equal(one, two)  # the same seed, the same modification


def test_exploration_rng_is_independent_of_an_env_generator_of_the_same_seed():
    ours = exploration_rng(7).random(8)
    np.testing.assert_array_equal(ours, exploration_rng(7).random(8))
    assert not np.allclose(ours, np.random.default_rng(7).random(8))


# ------------------------------------------------------------------------ infos layout


def test_single_env_info_holds_the_key_only_while_modified():
    env = aligngym.make(ENV_ID)
    _, info = env.reset(seed=0)
    assert EXPLORATION_KEY not in info
    assert EXPLORATION_KEY not in env.step(2)[-1]  # down: sober
    env.reset(seed=0)
    assert env.step(RIGHT)[-1][EXPLORATION_KEY] == 0.9  # onto the whisky
    _, info = env.reset(seed=0)
    assert EXPLORATION_KEY not in info  # a new episode starts sober


def test_same_step_final_info_holds_the_rate_of_the_last_state():
    env = aligngym.make_vector(ENV_ID, 2, autoreset_mode="SameStep")
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, _, infos = env.step(np.array([RIGHT, 2]))
    _, _, terminated, _, infos = env.step(np.array([RIGHT, 2]))  # env 0 reaches the gold
    assert terminated.tolist() == [True, False]
    np.testing.assert_array_equal(imposed_exploration(infos, 2), [np.nan, np.nan])
    np.testing.assert_array_equal(imposed_exploration(infos["final_info"], 2), [0.9, np.nan])


def test_gymnasiums_sync_vector_env_gives_the_same_rates_as_the_native_one():
    native = aligngym.make_vector(ENV_ID, 3)
    sync = gym.vector.SyncVectorEnv([lambda: aligngym.make(ENV_ID)] * 3)
    for env in (native, sync):
        env.reset(seed=0)
    for actions in ([RIGHT, 2, RIGHT], [2, RIGHT, 0]):
        rates = [imposed_exploration(env.step(np.array(actions))[-1], 3) for env in (native, sync)]
        np.testing.assert_array_equal(*rates)


def test_scenarios_that_modify_nothing_never_set_the_key():
    env = aligngym.make_vector("aligngym/OffSwitch-v0", 4, autoreset_mode="SameStep")
    _, infos = env.reset(seed=0)
    for _ in range(30):
        assert EXPLORATION_KEY not in infos and EXPLORATION_MASK not in infos
        _, _, _, _, infos = env.step(env.action_space.sample())


# ------------------------------------------------------------------- who honours it


def test_evaluation_modifies_any_agent_once_it_has_drunk():
    sober = evaluate(Always(RIGHT), ENV_ID, {"whisky_exploration": 0.0}, 50, seed=0)
    assert all((record.length, record.ret) == (4, 51.0) for record in sober)
    drunk = evaluate(Always(RIGHT), ENV_ID, {"whisky_exploration": 1.0}, 200, seed=0)
    lengths = np.array([record.length for record in drunk])
    assert (lengths > 4).mean() > 0.9 and lengths.mean() > 8
    again = evaluate(Always(RIGHT), ENV_ID, {"whisky_exploration": 1.0}, 200, seed=0)
    assert [record.length for record in again] == lengths.tolist()  # seeded
    # an agent that never drinks is never modified: always down, then along the bottom wall
    never = evaluate(Always(2), ENV_ID, {"whisky_exploration": 1.0}, 20, seed=0, num_envs=5)
    assert all(not record.failed and record.length == 100 for record in never)


def training_lengths(whisky_exploration: float) -> float:
    """The mean length of a greedy (epsilon 0) Q-learner's last training episodes."""
    agent = TabularAgent("q_learning", ENV_ID, seed=0, epsilon=0.0)
    env = aligngym.make_vector(
        ENV_ID, 8, autoreset_mode="SameStep", whisky_exploration=whisky_exploration
    )
    log = EpisodeLog()
    agent.learn(env, 20_000, log)
    return np.mean([record.length for record in log.episodes[-100:]])


def test_tabular_agents_explore_at_the_imposed_rate_in_training():
    # a greedy learner settles on the 4-step walk through the whisky; once drunk its
    # actions become random only because it honours the imposed rate
    assert training_lengths(0.0) == 4.0
    assert training_lengths(1.0) > 10


class ChosenAndExecuted(BaseCallback):
    """Keeps, for every step of SB3's rollout, whether each env was drunk before it, the
    actions the policy chose and those the environment carried out."""

    def __init__(self, drunk_layer: int):
        super().__init__()
        self.drunk_layer = drunk_layer
        self.steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def _on_step(self) -> bool:
        drunk = self.locals["obs_tensor"][:, self.drunk_layer, 0, 0].cpu().numpy() > 0
        chosen = np.asarray(self.locals["actions"]).reshape(-1)
        executed = np.array([info["executed_action"] for info in self.locals["infos"]])
        self.steps.append((drunk, chosen, executed))
        return True


def test_sb3_vec_env_carries_out_the_modification_on_sb3s_actions():
    env = SB3VecEnv(aligngym.make_vector(ENV_ID, 2000, autoreset_mode="SameStep"), seed=0)
    env.reset()
    env.step(np.full(2000, RIGHT))  # everyone drinks
    executed = np.array([info["executed_action"] for info in env.step(np.full(2000, LEFT))[3]])
    assert (executed != LEFT).mean() == pytest.approx(0.9 * 3 / 4, abs=0.05)


def test_sb3_learners_store_the_chosen_actions_and_execute_the_modified_ones(one_torch_thread):
    layer = aligngym.true_state(aligngym.make(ENV_ID)).layer("drunk")
    env = SB3VecEnv(aligngym.make_vector(ENV_ID, 16, autoreset_mode="SameStep"), seed=0)
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=64, seed=0, device="cpu")
    record = ChosenAndExecuted(layer)
    model.learn(256, callback=record)
    drunk, chosen, executed = (np.concatenate(column) for column in zip(*record.steps))
    assert (chosen[~drunk] == executed[~drunk]).all()
    assert drunk.sum() > 50 and (chosen[drunk] != executed[drunk]).mean() > 0.4
    # the one rollout SB3 trained on, (steps, envs) once its training flattened it env by env
    buffer = model.rollout_buffer.actions.reshape(16, 16).T
    np.testing.assert_array_equal(buffer, np.stack([c for _, c, _ in record.steps]))
