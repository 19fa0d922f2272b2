"""How a scenario modifies the agent acting in it: the ``agent_exploration`` info key.

Some scenarios change the agent, not only the world: drinking the whisky in
:class:`~aligngym.envs.corrigibility.whisky_gold.WhiskyGold` raises the agent's own
exploration rate (Leike et al. 2017's self-modification problem). An environment that
randomised actions itself would hide the modification inside noisy dynamics; as in the
original, the agent's action selection carries it out, and the environment says what is
imposed through one key:

- ``info["agent_exploration"]`` (a float in [0, 1]): the exploration rate imposed on the
  agent's **next** action. With that probability the action the agent chose is replaced by one
  drawn uniformly from the action space (the chosen one included), with the agent's own
  generator (:func:`explore`). A single env's ``info`` (of ``reset`` and ``step`` alike) holds
  the key only while a modification is in force. A vector env's ``infos`` hold an array of
  rates with Gymnasium's mask ``infos["_agent_exploration"]`` (where the mask is false there
  is none); in ``SAME_STEP`` autoreset mode ``infos["final_info"]`` holds those of the
  episodes' last states. Scenarios that never modify their agent never set the key, and the
  code that honours it then costs one dict lookup a step.

Who honours it:

- evaluation (:func:`aligngym.evaluation.evaluate`): every agent's actions (scripted, LLM, SB3,
  tabular...) pass through :func:`modified_actions`, from a generator seeded from the
  evaluation seed, so a modified agent is modified at test as in training;
- the tabular agents (:mod:`aligngym.agents.tabular`) explore at the imposed rate in place of
  their own epsilon and keep their update rule: Q-learning bootstraps on the greedy value and
  so ignores its modification; SARSA bootstraps on the action it really takes next (and
  expected SARSA on its policy as modified), so they account for it;
- stable-baselines3 agents (:class:`~aligngym.agents.sb3_vec_env.SB3VecEnv`) and ``ppo_fast``
  carry out the modified actions but store the ones their policy chose (and, for PPO, their
  log-probabilities): they learn as if their choices had been carried out, and the
  modification reaches them only through the returns that follow (which their critics learn).

Not yet: the language-model fine-tuning loop (``agent=llm_rl``) in training, and the episode
the runner records as a video.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: the info key of the exploration rate a scenario imposes on the agent's next action
EXPLORATION_KEY = "agent_exploration"
#: its mask in a vector env's infos (Gymnasium's layout of entries some environments lack)
EXPLORATION_MASK = f"_{EXPLORATION_KEY}"
#: mixed into the seed of :func:`exploration_rng`, so that its draws are independent of those
#: of an environment seeded with the same seed
_STREAM = 0x5E1F


def imposed_exploration(infos: Mapping[str, Any], num_envs: int) -> np.ndarray:
    """The exploration rate imposed on each environment's next action.

    Args:
        infos: a vector env's ``infos`` (or, with ``num_envs=1``, a single env's ``info``).
        num_envs: the number of environments.

    Returns:
        A float array of shape ``(num_envs,)``: the rate where one is imposed, NaN elsewhere.
    """
    rates = np.full(num_envs, np.nan)
    if EXPLORATION_KEY not in infos:
        return rates
    values = infos[EXPLORATION_KEY]
    if np.ndim(values) == 0:  # a single env's info holds the key only where one is imposed
        rates[:] = float(values)
        return rates
    values = np.asarray(values, dtype=float).reshape(num_envs)
    mask = infos.get(EXPLORATION_MASK)
    return values.copy() if mask is None else np.where(mask, values, np.nan)


def explore(
    actions: np.ndarray, rates: np.ndarray, rng: np.random.Generator, num_actions: int
) -> np.ndarray:
    """Replaces each action, with probability its rate, by a uniformly random action.

    Args:
        actions: one chosen action per environment, shape ``(n,)``.
        rates: the exploration rate of each environment (NaN or 0: the action is kept).
        rng: the agent's own generator; it draws ``2 n`` numbers whatever the rates.
        num_actions: the size of the (discrete) action space to draw from.

    Returns:
        A new array of the actions to carry out, of the dtype of ``actions``.
    """
    actions = np.asarray(actions)
    replace = rng.random(len(actions)) < rates  # NaN < x is false
    random = rng.integers(num_actions, size=len(actions))
    return np.where(replace, random, actions).astype(actions.dtype, copy=False)


def modified_actions(
    actions: np.ndarray, infos: Mapping[str, Any], rng: np.random.Generator, num_actions: int
) -> np.ndarray:
    """``actions`` as the modification in the latest ``infos`` has them carried out.

    Where ``infos`` hold no :data:`EXPLORATION_KEY` this is one dict lookup and returns
    ``actions`` itself; otherwise :func:`explore` at the imposed rates.
    """
    if EXPLORATION_KEY not in infos:
        return actions
    return explore(actions, imposed_exploration(infos, len(actions)), rng, num_actions)


def exploration_rng(seed: int | None) -> np.random.Generator:
    """A generator for imposed exploration, seeded from ``seed`` (``None``: fresh entropy).

    Its draws are independent of those of an environment seeded with the same ``seed``.
    """
    return np.random.default_rng(None if seed is None else [int(seed), _STREAM])
