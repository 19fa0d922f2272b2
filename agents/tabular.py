"""Tabular learners: Q-learning, SARSA and expected SARSA on any discrete scenario.

The table grows as observations arrive: each distinct observation (its bytes) gets a row, so
the learners work on every scenario with array observations that identify its state (grid or
flat observations of the gridworlds, the discrete belief grid of the off-switch game). They
train on a Gymnasium vector env in ``SAME_STEP`` autoreset mode (one table update per
environment per step) with epsilon-greedy exploration from their own seeded generator.

By default they learn from ``info["executed_action"]``, the action the environment really
carried out, as Orseau & Armstrong (2016) require: where an interruption overrides the agent,
Q-learning then stays indifferent to it while SARSA, which bootstraps on the next executed
action, learns to avoid it. Executed-only actions (such as an interrupted agent's ``stay``)
get their own table columns, which the agent learns but never chooses.

Where a scenario modifies its agent (``info["agent_exploration"]``,
:mod:`aligngym.envs.core.modification`: whisky and gold), the agent explores at the imposed
rate in place of its own epsilon in those environments, and keeps its update rule: Q-learning,
which bootstraps on the greedy value, ignores its modification; SARSA, which bootstraps on the
action it really takes next, and expected SARSA, on its policy as modified, account for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.agents.base import TrainingMonitor, recording, report_step
from aligngym.envs.core.metrics import step_contract
from aligngym.envs.core.modification import EXPLORATION_KEY, explore, imposed_exploration
from aligngym.envs.registry import card_of

ALGORITHMS = ("q_learning", "sarsa", "expected_sarsa")
LEARN_FROM = ("executed", "chosen")


class QTable:
    """Action values of observations seen so far: a dict from observation bytes to a row.

    Args:
        num_actions: the actions an agent can choose (the first columns).
        initial_value: the value of every entry before it is learned.
    """

    def __init__(self, num_actions: int, initial_value: float = 0.0):
        self.num_actions = num_actions
        self.initial_value = float(initial_value)  # an int would make an int table
        self.rows: dict[bytes, int] = {}
        self.values = np.full((64, num_actions), self.initial_value)

    def __len__(self) -> int:
        return len(self.rows)

    def lookup(self, obs: np.ndarray, grow: bool = True) -> np.ndarray:
        """Returns the row of each observation of the batch ``obs``; -1 for unseen ones.

        With ``grow`` unseen observations get new rows instead.
        """
        if not isinstance(obs, np.ndarray) or obs.dtype.kind not in "biuf":
            raise TypeError(
                "tabular agents need array observations (obs_type 'grid' or 'flat'), got "
                f"{type(obs).__name__}"
            )
        flat = np.ascontiguousarray(obs).reshape(len(obs), int(np.prod(obs.shape[1:])))
        keys = flat.view(np.dtype((np.void, flat.shape[1] * flat.itemsize))).ravel().tolist()
        if not grow:
            return np.array([self.rows.get(key, -1) for key in keys], dtype=np.int64)
        rows = self.rows
        index = [rows.setdefault(key, len(rows)) for key in keys]
        if len(rows) > len(self.values):
            self._resize(rows=2 * len(rows))
        return np.array(index, dtype=np.int64)

    def ensure_column(self, action: int) -> None:
        """Adds columns so that (executed-only) action ``action`` has one."""
        if action >= self.values.shape[1]:
            self._resize(columns=action + 1)

    def _resize(self, rows: int | None = None, columns: int | None = None) -> None:
        rows = rows or len(self.values)
        columns = columns or self.values.shape[1]
        values = np.full((rows, columns), self.initial_value)
        old = self.values
        values[: len(old), : old.shape[1]] = old
        self.values = values

    def chosen(self, rows: np.ndarray) -> np.ndarray:
        """The values of the choosable actions at ``rows`` (unseen rows -1: initial values)."""
        values = self.values[np.maximum(rows, 0), : self.num_actions]
        values[rows < 0] = self.initial_value
        return values

    def keys_array(self) -> np.ndarray:
        """The observations' bytes as a ``(rows, bytes)`` uint8 array, in row order."""
        keys = list(self.rows)
        if not keys:
            return np.zeros((0, 0), dtype=np.uint8)
        return np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), -1)


class TabularAgent:
    """Q-learning, SARSA or expected SARSA with a growing table, as a runner agent.

    Args:
        algorithm: ``"q_learning"`` (off-policy: bootstraps on the greedy value),
            ``"sarsa"`` (on-policy: bootstraps on the next action it takes) or
            ``"expected_sarsa"`` (bootstraps on its epsilon-greedy policy's expected value).
        env_id: the scenario it learns; :meth:`learn` refuses another.
        seed: seeds the agent's own generator (exploration and tie-breaking).
        learning_rate: the step size of each update.
        discount: the discount factor of the bootstrapped target.
        epsilon: the exploration rate of the epsilon-greedy behaviour policy while learning
            (acting with :meth:`act` is greedy); where the scenario imposes a rate
            (``info["agent_exploration"]``), that rate instead.
        learn_from: ``"executed"`` (default; the update uses ``info["executed_action"]``, as
            Orseau & Armstrong require) or ``"chosen"`` (the action the agent picked).
        initial_value: the value of unlearned entries.
        resume_from: a table saved by :meth:`save` (an interrupted run's checkpoint) to go on
            learning from; one of another algorithm or scenario is refused. :meth:`learn` then
            trains only the steps the table still lacks of ``total_timesteps``.
    """

    autoreset_mode = AutoresetMode.SAME_STEP
    observation_types = ("grid", "flat")

    def __init__(
        self,
        algorithm: str,
        env_id: str,
        seed: int = 0,
        learning_rate: float = 0.1,
        discount: float = 0.99,
        epsilon: float = 0.1,
        learn_from: str = "executed",
        initial_value: float = 0.0,
        resume_from: str | None = None,
    ):
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"unknown tabular algorithm {algorithm!r}; accepted: {', '.join(ALGORITHMS)}"
            )
        if learn_from not in LEARN_FROM:
            raise ValueError(f"learn_from must be one of {LEARN_FROM}, got {learn_from!r}")
        if not 0.0 < learning_rate <= 1.0 or not 0.0 <= discount <= 1.0:
            raise ValueError("learning_rate must lie in (0, 1] and discount in [0, 1]")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
        self.algorithm = algorithm
        self.env_id = env_id
        self.seed = seed
        self.learning_rate = learning_rate
        self.discount = discount
        self.epsilon = epsilon
        self.learn_from = learn_from
        self.initial_value = initial_value
        self.rng = np.random.default_rng(seed)
        self.table: QTable | None = None
        self.timesteps = 0
        #: the timesteps the table of ``resume_from`` had learned (0 without one)
        self.resumed_timesteps = 0
        if resume_from is not None:
            self._resume(Path(resume_from))

    def _resume(self, path: Path) -> None:
        """Takes the table and timesteps of ``path`` after checking that they fit."""
        if not path.is_file():
            raise FileNotFoundError(f"no saved table at {path}")
        saved = TabularAgent.load(path)
        for key in ("algorithm", "env_id"):
            if getattr(saved, key) != getattr(self, key):
                raise ValueError(
                    f"cannot resume from {path}: it is a {saved.algorithm} table of "
                    f"{saved.env_id}, and this run trains {self.algorithm} on {self.env_id}"
                )
        self.table, self.timesteps = saved.table, saved.timesteps
        self.resumed_timesteps = saved.timesteps

    # ----------------------------------------------------------------------------- acting

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The greedy action of each observation (the first best one; unseen: action 0)."""
        if self.table is None:
            raise RuntimeError("the agent has not learned yet: call learn() or load()")
        return self.table.chosen(self.table.lookup(observations, grow=False)).argmax(axis=1)

    def _behave(self, rows: np.ndarray, epsilon: float | np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions at ``rows`` (``epsilon``: one rate, or one per row), ties
        among the best broken at random."""
        values = self.table.chosen(rows)
        best = values == values.max(axis=1, keepdims=True)
        greedy = (best * self.rng.random(values.shape)).argmax(axis=1)
        return explore(greedy, epsilon, self.rng, self.table.num_actions)

    def _policy_values(self, rows: np.ndarray, epsilon: float | np.ndarray) -> np.ndarray:
        """The epsilon-greedy policy's expected value at each of ``rows``."""
        values = self.table.chosen(rows)
        best = values == values.max(axis=1, keepdims=True)
        epsilon = np.reshape(epsilon, (-1, 1))
        probs = epsilon / values.shape[1] + (1 - epsilon) * best / best.sum(axis=1, keepdims=True)
        return (probs * values).sum(axis=1)

    def _epsilons(self, infos: Mapping[str, Any], n: int) -> float | np.ndarray:
        """The exploration rate of each environment's next action: the rate the scenario
        imposes where it imposes one, else the agent's own (one float where none does)."""
        if EXPLORATION_KEY not in infos:
            return self.epsilon
        rates = imposed_exploration(infos, n)
        return np.where(np.isnan(rates), self.epsilon, rates)

    def _next_epsilons(
        self, infos: Mapping[str, Any], n: int, dones: np.ndarray
    ) -> float | np.ndarray:
        """:meth:`_epsilons` at the observations a step led to: at its last state
        (``infos["final_info"]``) where an episode ended and the env was reset."""
        epsilons = self._epsilons(infos, n)
        final = infos.get("final_info")
        if final is None or EXPLORATION_KEY not in final:
            return epsilons
        return np.where(dones, self._epsilons(final, n), epsilons)

    # ---------------------------------------------------------------------------- learning

    def learn(
        self,
        env: VectorEnv,
        total_timesteps: int,
        monitor: TrainingMonitor | None = None,
    ) -> None:
        """Learns for ``total_timesteps`` environment steps (all environments counted).

        ``env`` is a Gymnasium vector env in ``SAME_STEP`` autoreset mode; it is reset with
        the agent's seed. Calling ``learn`` again continues with the same table for
        ``total_timesteps`` more steps; after ``resume_from``, the first call trains up to
        ``total_timesteps`` in all.
        """
        card = card_of(env)
        if card.id != self.env_id:
            raise ValueError(f"this agent learns {self.env_id}, not {card.id}")
        if env.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError("tabular agents learn on a vector env in AutoresetMode.SAME_STEP")
        budget = total_timesteps - self.resumed_timesteps
        self.resumed_timesteps = 0
        if budget <= 0:
            return
        env = recording(env)
        if self.table is None:
            self.table = QTable(int(env.single_action_space.n), self.initial_value)
        table, n = self.table, env.num_envs
        obs, infos = env.reset(seed=self.seed + self.timesteps)
        rows = table.lookup(obs)
        actions = self._behave(rows, self._epsilons(infos, n))
        # SARSA's update waits for the next action taken: (row, action, reward) per env
        pending = np.zeros(n, dtype=bool)
        pending_row = np.zeros(n, dtype=np.int64)
        pending_action = np.zeros(n, dtype=np.int64)
        pending_reward = np.zeros(n)
        steps = max(1, budget // n)
        for _ in range(steps):
            obs, rewards, terminated, truncated, infos = env.step(actions)
            rewards = np.asarray(rewards, dtype=float)
            if self.learn_from == "executed":
                taken = step_contract(infos, n, card.events).executed_action
                table.ensure_column(int(taken.max()))
            else:
                taken = actions
            dones = terminated | truncated
            next_obs = obs.copy()
            ended = np.flatnonzero(dones)
            for i in ended.tolist():
                next_obs[i] = infos["final_obs"][i]
            next_rows = table.lookup(next_obs)
            if self.algorithm != "q_learning":
                next_epsilons = self._next_epsilons(infos, n, dones)
            if self.algorithm == "sarsa":
                # the pending transitions' next action is the one just taken at ``rows``
                self._update(
                    np.flatnonzero(pending),
                    pending_row,
                    pending_action,
                    pending_reward + self.discount * table.values[rows, taken],
                )
                # episodes that ended: no next action; truncated ones bootstrap on one drawn
                # from the policy at the final observation
                final = next_rows[ended]
                target = np.zeros(n)
                target[ended] = (
                    rewards[ended]
                    + self.discount
                    * ~terminated[ended]
                    * table.values[final, self._behave(final, _pick(next_epsilons, ended))]
                )
                self._update(ended, rows, taken, target)
                pending = ~dones
                pending_row, pending_action, pending_reward = rows, taken, rewards.astype(float)
            else:
                if self.algorithm == "q_learning":
                    bootstrap = table.chosen(next_rows).max(axis=1)
                else:
                    bootstrap = self._policy_values(next_rows, next_epsilons)
                target = rewards + self.discount * bootstrap * ~terminated
                self._update(np.arange(n), rows, taken, target)
            rows = next_rows.copy()
            rows[ended] = table.lookup(obs[ended])
            actions = self._behave(rows, self._epsilons(infos, n))
            self.timesteps += n
            report_step(monitor, self.timesteps, infos)

    def _update(
        self, envs: np.ndarray, rows: np.ndarray, actions: np.ndarray, target: np.ndarray
    ) -> None:
        """Moves Q(rows[i], actions[i]) towards target[i] for each env i in ``envs``, in turn.

        One at a time, so that environments updating the same entry on the same step each
        take their own step of size ``learning_rate`` from the value the previous one left.
        """
        values, rate = self.table.values, self.learning_rate
        for i in envs.tolist():
            row, action = rows[i], actions[i]
            values[row, action] += rate * (target[i] - values[row, action])

    # ------------------------------------------------------------------------ persistence

    def save(self, path: Path) -> Path:
        """Writes the table and the hyperparameters to ``path`` with suffix ``.npz``."""
        if self.table is None:
            raise RuntimeError("nothing to save: the agent has not learned yet")
        path = Path(path).with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "algorithm": self.algorithm,
            "env_id": self.env_id,
            "seed": self.seed,
            "learning_rate": self.learning_rate,
            "discount": self.discount,
            "epsilon": self.epsilon,
            "learn_from": self.learn_from,
            "initial_value": self.initial_value,
            "num_actions": self.table.num_actions,
            "timesteps": self.timesteps,
        }
        np.savez_compressed(
            path,
            config=np.array(json.dumps(config)),
            keys=self.table.keys_array(),
            values=self.table.values[: len(self.table)],
        )
        return path

    @classmethod
    def load(cls, path: Path) -> TabularAgent:
        """Reads an agent written by :meth:`save`; it acts and learns on from where it was."""
        with np.load(Path(path), allow_pickle=False) as data:
            config: dict[str, Any] = json.loads(str(data["config"]))
            keys, values = data["keys"], data["values"]
        num_actions, timesteps = config.pop("num_actions"), config.pop("timesteps")
        agent = cls(**config)
        table = QTable(num_actions, agent.initial_value)
        table.rows = {key.tobytes(): k for k, key in enumerate(keys)}
        table.values = values.copy() if len(values) else table.values
        agent.table, agent.timesteps = table, timesteps
        return agent


def _pick(rates: float | np.ndarray, envs: np.ndarray) -> float | np.ndarray:
    """The rates of environments ``envs``: one rate for all stays one rate."""
    return rates if np.ndim(rates) == 0 else rates[envs]
