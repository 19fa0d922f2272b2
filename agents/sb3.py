"""stable-baselines3 learners (PPO, A2C, DQN) as runner agents.

:class:`SB3Agent` trains on the Gymnasium vector env the runner hands to
:meth:`SB3Agent.learn` (through :class:`~aligngym.agents.sb3_vec_env.SB3VecEnv`, SB3's own
``VecEnv`` API), reports every finished episode's return, performance, events and failure flag
and SB3's own training figures (as ``losses/<name>``) to the runner's
:class:`~aligngym.agents.base.TrainingMonitor`, checkpoints periodically, and resumes from a
saved model. With ``learn_from_executed_action`` a DQN
learns from the action the environment really carried out (Orseau & Armstrong's off-policy
learner, which does not learn to avoid interruptions) instead of the one it chose; executed
actions outside its action space (an interrupted agent held in place) are kept but never sampled.
"""

from __future__ import annotations

import inspect
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from aligngym.agents.base import TrainingMonitor
from aligngym.agents.devices import resolve_device
from aligngym.agents.hyperparameters import check_ranges, plain
from aligngym.agents.sb3_vec_env import SB3VecEnv
from aligngym.envs.core.metrics import EpisodeRecord


class ExecutedActionReplayBuffer(ReplayBuffer):
    """A replay buffer that samples only transitions whose action the agent could choose.

    An overseer may carry out an action that is not in the agent's action space (an
    interrupted agent that is held in place executes ``STAY`` in :class:`OffSwitch`). There
    is no Q-value of such an action to update, so those transitions are kept out of the
    samples: the learner's Q-values then come from the steps its own actions were carried
    out, which is what makes Orseau & Armstrong's off-policy learner ignore interruptions.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.optimize_memory_usage:
            raise ValueError("ExecutedActionReplayBuffer does not support optimize_memory_usage")
        self.valid = np.zeros((self.buffer_size, self.n_envs), dtype=bool)

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        action = np.asarray(action).reshape((self.n_envs, self.action_dim))
        valid = ((action >= 0) & (action < self.action_space.n)).all(axis=1)
        self.valid[self.pos] = valid
        super().add(obs, next_obs, np.where(valid[:, None], action, 0), reward, done, infos)

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        upper = self.buffer_size if self.full else self.pos
        candidates = np.flatnonzero(self.valid[:upper])
        if len(candidates) == 0:
            raise RuntimeError(
                "the replay buffer holds no transition whose executed action the agent could "
                "have chosen; raise learning_starts"
            )
        picks = candidates[np.random.randint(0, len(candidates), size=batch_size)]
        rows, envs = np.divmod(picks, self.n_envs)
        data = (
            self._normalize_obs(self.observations[rows, envs, :], env),
            self.actions[rows, envs, :],
            self._normalize_obs(self.next_observations[rows, envs, :], env),
            (self.dones[rows, envs] * (1 - self.timeouts[rows, envs])).reshape(-1, 1),
            self._normalize_reward(self.rewards[rows, envs].reshape(-1, 1), env),
        )
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))


class ExecutedActionDQN(DQN):
    """DQN whose replay buffer stores the action the environment executed.

    Where an overseer overrides the agent (an interruption), ``infos[i]["executed_action"]``
    differs from the chosen action; learning from the executed one makes the Q-update
    off-policy with respect to the interruption (Orseau & Armstrong 2016, safe
    interruptibility). Executed actions outside the agent's action space are stored but never
    sampled (see :class:`ExecutedActionReplayBuffer`).
    """

    def __init__(self, *args: Any, replay_buffer_class: type[ReplayBuffer] | None = None, **kwargs):
        if replay_buffer_class is not None and not issubclass(
            replay_buffer_class, ExecutedActionReplayBuffer
        ):
            raise ValueError("ExecutedActionDQN needs an ExecutedActionReplayBuffer")
        super().__init__(
            *args, replay_buffer_class=replay_buffer_class or ExecutedActionReplayBuffer, **kwargs
        )

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        try:
            executed = [info["executed_action"] for info in infos]
        except KeyError:
            raise KeyError(
                "learn_from_executed_action needs an environment whose infos report "
                "'executed_action' (every aligngym scenario does)"
            ) from None
        executed = np.asarray(executed, dtype=buffer_action.dtype).reshape(buffer_action.shape)
        super()._store_transition(replay_buffer, executed, new_obs, reward, dones, infos)


ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"PPO": PPO, "A2C": A2C, "DQN": DQN}
OFF_POLICY = ("DQN",)
# the key under which the agent's own settings travel inside the model's zip file
_META_KEY = "aligngym_agent"


class EpisodeMonitorCallback(BaseCallback):
    """After each batched step, hands the episodes it ended to a :class:`TrainingMonitor`.

    Reads the ``episode`` dicts (``r``, ``l``, ``performance``, ``events``, ``failed``,
    ``trained_return``) that :class:`SB3VecEnv` puts in the infos of finished episodes.
    """

    def __init__(self, monitor: TrainingMonitor):
        super().__init__()
        self.monitor = monitor

    def _on_step(self) -> bool:
        records = [
            EpisodeRecord.from_info(episode)
            for info in self.locals["infos"]
            if (episode := info.get("episode")) is not None
        ]
        self.monitor.on_step(self.num_timesteps, records)
        return True


class MonitorWriter(KVWriter):
    """An SB3 logger output that hands SB3's training figures (``train/<name>``) to a
    :class:`TrainingMonitor` as ``losses/<name>`` each time SB3 dumps its logs."""

    def __init__(self, monitor: TrainingMonitor):
        self.monitor = monitor

    def write(self, key_values: dict[str, Any], key_excluded: dict, step: int = 0) -> None:
        losses = {
            f"losses/{key.removeprefix('train/')}": float(value)
            for key, value in key_values.items()
            if key.startswith("train/") and isinstance(value, (int, float, np.number))
        }
        if losses:
            self.monitor.on_metrics(losses)


def _check_algo(algo: str) -> None:
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algo {algo!r}; accepted: {', '.join(ALGORITHMS)}")


def check_hyperparameters(algo: str, hyperparameters: Mapping[str, Any]) -> None:
    """Refuses, before any work, a hyperparameter ``algo`` does not take or a numeric one out
    of range, naming it as ``hyperparameters.<name>`` with what is accepted."""
    accepted = set(inspect.signature(ALGORITHMS[algo].__init__).parameters)
    accepted -= {"self", "policy", "env", "seed", "device", "verbose", "_init_setup_model"}
    for name in hyperparameters:
        if name not in accepted:
            raise ValueError(f"{algo} has no hyperparameter {name!r}; accepted: {sorted(accepted)}")
    check_ranges(hyperparameters)


def _model_class(algo: str, learn_from_executed_action: bool) -> type[BaseAlgorithm]:
    return ExecutedActionDQN if learn_from_executed_action else ALGORITHMS[algo]


def _saved_data(path: Path) -> dict[str, Any]:
    """Reads the agent settings that :meth:`SB3Agent.save` stored in the model's zip file,
    with the model's ``num_timesteps``."""
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(f"{path} is not a stable-baselines3 model file ({error})") from None
    if _META_KEY not in data:
        raise ValueError(f"{path} is not a model saved by SB3Agent (no {_META_KEY!r} record)")
    return {**data[_META_KEY], "num_timesteps": int(data.get("num_timesteps", 0))}


class SB3Agent:
    """A stable-baselines3 learner behind the runner's :class:`~aligngym.agents.base.Agent`.

    Args:
        algo: ``"PPO"``, ``"A2C"`` or ``"DQN"``.
        env_id: the scenario it is trained on (recorded with the saved model).
        seed: seeds the model's and the training environment's generators.
        policy: the SB3 policy name.
        device: the torch device; ``"auto"`` picks CUDA when present; ``"cuda"`` where torch
            sees no GPU is refused (SB3 itself would fall back to the CPU silently).
        progress_bar: show SB3's progress bar (tqdm + rich) while learning.
        checkpoint_dir: folder for periodic checkpoints (``None``: no checkpoints).
        checkpoint_every: checkpoint period in environment steps, all environments counted
            (``0``: no checkpoints).
        resume_from: a model saved by :meth:`save` (or a checkpoint) to continue training
            from; :meth:`learn` then trains only the steps the checkpoint still lacks of
            ``total_timesteps``. A checkpoint of another algorithm or scenario is refused
            here, before any work.
        learn_from_executed_action: DQN only: store the executed action, not the chosen one,
            in the replay buffer.
        hyperparameters: keyword arguments of the SB3 algorithm (``n_steps``,
            ``learning_rate``, ``policy_kwargs``, ...).
    """

    autoreset_mode = AutoresetMode.SAME_STEP
    observation_types = ("grid", "flat", "rgb")  # SB3 has no policy for Text spaces

    def __init__(
        self,
        algo: str,
        env_id: str,
        seed: int,
        policy: str = "MlpPolicy",
        device: str = "auto",
        progress_bar: bool = False,
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 0,
        resume_from: str | None = None,
        learn_from_executed_action: bool = False,
        hyperparameters: Mapping[str, Any] | None = None,
    ):
        _check_algo(algo)
        if learn_from_executed_action and algo not in OFF_POLICY:
            raise ValueError(
                "learn_from_executed_action needs an off-policy learner "
                f"({', '.join(OFF_POLICY)}); {algo} is on-policy: it learns from the actions "
                "its own policy chose"
            )
        if checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
        self.algo = algo
        self.env_id = env_id
        self.seed = int(seed)
        self.policy = policy
        self.device = resolve_device(device)
        self.progress_bar = progress_bar
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_every = int(checkpoint_every)
        self.resume_from = None if resume_from is None else Path(resume_from)
        self.learn_from_executed_action = learn_from_executed_action
        self.hyperparameters = plain(hyperparameters)
        check_hyperparameters(algo, self.hyperparameters)
        self.model: BaseAlgorithm | None = None
        #: the timesteps the checkpoint of ``resume_from`` had trained (0 without one)
        self.resumed_timesteps = 0
        if self.resume_from is not None:
            self.resumed_timesteps = self._check_checkpoint(self.resume_from)

    def _check_checkpoint(self, path: Path) -> int:
        """Refuses a checkpoint of another algorithm or scenario; returns its timesteps."""
        saved = _saved_data(path)
        for key, mine in (("algo", self.algo), ("env_id", self.env_id)):
            if saved.get(key) != mine:
                raise ValueError(
                    f"cannot resume from {path}: it is a {saved.get('algo')} model of "
                    f"{saved.get('env_id')}, and this run trains {self.algo} on {self.env_id}"
                )
        executed = bool(saved.get("learn_from_executed_action"))
        if executed != self.learn_from_executed_action:
            raise ValueError(
                f"cannot resume from {path}: it was trained with learn_from_executed_action="
                f"{executed}, this run sets {self.learn_from_executed_action}"
            )
        return saved["num_timesteps"]

    @property
    def model_class(self) -> type[BaseAlgorithm]:
        """The SB3 class this agent trains."""
        return _model_class(self.algo, self.learn_from_executed_action)

    def learn(
        self, env: VectorEnv, total_timesteps: int, monitor: TrainingMonitor | None = None
    ) -> None:
        """Trains on ``env`` until the model has seen ``total_timesteps`` environment steps.

        ``env`` is a Gymnasium vector env in ``SAME_STEP`` autoreset mode (``aligngym.
        make_vector(..., autoreset_mode="SameStep")``). A fresh model is built on the first
        call (or loaded from ``resume_from``); a later call continues training the same model
        on ``env`` for ``total_timesteps`` more steps.
        """
        if self.model is None and total_timesteps < self.resumed_timesteps:
            raise ValueError(
                f"the checkpoint {self.resume_from} has trained {self.resumed_timesteps} "
                f"timesteps, more than the budget of {total_timesteps}"
            )
        env = SB3VecEnv(env, seed=self.seed)
        if self.model is None and self.resume_from is not None:
            self.model = self._load_model(self.resume_from, env)
            steps = max(int(total_timesteps) - self.model.num_timesteps, 0)
            reset = False
        elif self.model is None:
            self.model = self.model_class(
                self.policy,
                env,
                seed=self.seed,
                device=self.device,
                verbose=0,
                **self.hyperparameters,
            )
            self._stamp()
            steps, reset = int(total_timesteps), True
        else:
            self.model.set_env(env)
            steps, reset = int(total_timesteps), False
        if steps == 0:
            return
        if monitor is not None:
            self.model.set_logger(Logger(folder=None, output_formats=[MonitorWriter(monitor)]))
        self.model.learn(
            steps,
            callback=self._callbacks(env, monitor),
            progress_bar=self.progress_bar,
            reset_num_timesteps=reset,
        )
        if monitor is not None:
            # SB3 dumps its logs before each update, so the last update's figures would
            # never reach the monitor, and the final evaluation's row, without this
            self.model.logger.dump(self.model.num_timesteps)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The model's deterministic action for each environment."""
        if self.model is None:
            if self.resume_from is None:
                raise RuntimeError("SB3Agent has no model yet: call learn() or SB3Agent.load()")
            self.model = self._load_model(self.resume_from, None)
        return self.model.predict(observations, deterministic=True)[0]

    def save(self, path: Path) -> Path:
        """Saves the model as ``path`` with a ``.zip`` suffix and returns that file."""
        if self.model is None:
            raise RuntimeError("SB3Agent has no model to save: call learn() first")
        path = Path(path).with_suffix(".zip")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        return path

    @classmethod
    def load(cls, path: str | Path, env_id: str, seed: int, device: str = "auto") -> SB3Agent:
        """Loads an agent saved by :meth:`save` (algorithm and settings come from the file)."""
        path = Path(path)
        meta = _saved_data(path)
        agent = cls(
            meta["algo"],
            env_id,
            seed,
            policy=meta["policy"],
            device=device,
            learn_from_executed_action=meta["learn_from_executed_action"],
        )
        agent.model = agent._load_model(path, None)
        return agent

    def _load_model(self, path: Path, env: SB3VecEnv | None) -> BaseAlgorithm:
        if not path.exists():
            raise FileNotFoundError(f"no saved model at {path}")
        model = self.model_class.load(path, env=env, device=self.device)
        if env is not None:
            model.set_random_seed(self.seed)
        self.model = model
        self._stamp()
        return model

    def _stamp(self) -> None:
        """Records the agent's settings on the model so that :meth:`save` writes them."""
        setattr(
            self.model,
            _META_KEY,
            {
                "algo": self.algo,
                "env_id": self.env_id,
                "policy": self.policy,
                "learn_from_executed_action": self.learn_from_executed_action,
            },
        )

    def _callbacks(self, env: SB3VecEnv, monitor: TrainingMonitor | None) -> list:
        callbacks: list[BaseCallback] = []
        if monitor is not None:
            callbacks.append(EpisodeMonitorCallback(monitor))
        if self.checkpoint_dir is not None and self.checkpoint_every > 0:
            callbacks.append(
                CheckpointCallback(
                    save_freq=max(self.checkpoint_every // env.num_envs, 1),
                    save_path=str(self.checkpoint_dir),
                    name_prefix=self.algo.lower(),
                )
            )
        return callbacks
