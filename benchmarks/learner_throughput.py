"""PPO end to end on aligngym's native vector env: SB3 against the batched-env libraries.

Each learner trains PPO on the scenario's train setting through ``aligngym.make_vector`` (the
native batched env), with the same number of environments, the same budget of timesteps and
PPO hyperparameters as close as each library allows, on the CPU with one torch thread; then
its greedy policy is evaluated with aligngym's own :func:`aligngym.evaluation.evaluate` on the
train and test settings. Learners:

* ``sb3``: stable-baselines3 PPO on ``aligngym.make_sb3_vec_env`` (the baseline; every ratio
  is to it, measured in the same invocation);
* ``skrl``: skrl's ``wrap_env`` + PPO + ``SequentialTrainer``;
* ``torchrl``: TorchRL's ``GymWrapper`` + ``Collector`` + ``GAE`` + ``ClipPPOLoss``;
* ``rl_games``: rl-games' ``Runner`` (its ``a2c_discrete`` PPO) on a registered vec env;
* ``pufferlib``: PufferLib 3's native ``PufferEnv`` vector layer + ``pufferl.PuffeRL``;
* ``aligngym:<name>`` (``--aligngym-agents``): aligngym's own agent built from
  ``conf/agent/<name>.yaml`` as the runner builds it (a missing config is skipped with a note).

The scenario settings come from the experiment configs (``conf/experiment/...``): the boat
race (``specification_gaming/boat_race``) and the cheese maze (``goal_misgeneralisation/
cheese_maze``: its train setting for training, train and test settings for evaluation, its
evaluation size); the PPO is SB3's PPO of those experiments as they shipped with ``agent=ppo``
(:data:`PPO_SETTINGS`, written here; each learner's translation of it is in its function and
in the JSON output). Steps per second cover the whole training call (rollouts, forward
passes, updates), not building the model or evaluating it. Every learner runs in its own
fresh process, one after another (the libraries set process-wide state: PufferLib turns
RuntimeWarnings into errors and takes over SIGINT, rl-games sets torch's thread count), so
nothing carries over between them; ``--repeats`` runs rounds over all learners (one seed a
round, the order rotated), and the table gives the median steps/s and the median of each
round's ratio to SB3 (the load of a shared machine moves absolute figures a lot).

The libraries live in their own virtual env (``bash benchmarks/setup_learners.sh``); a learner
whose library is missing is reported as unavailable, not skipped silently.

Usage::

    benchmarks/.venv-learners/bin/python benchmarks/learner_throughput.py \\
        [--scenario boat_race|cheese_maze] [--n-envs 16 256] [--timesteps 50000] \\
        [--learners sb3 skrl torchrl rl_games pufferlib] [--aligngym-agents ppo ppo_fast] \\
        [--repeats 3] [--torch-threads 1] [--device cpu] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import importlib.metadata
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

LEARNERS = ("sb3", "skrl", "torchrl", "rl_games", "pufferlib")
# the distribution whose version each learner reports
DISTRIBUTIONS = {
    "sb3": "stable-baselines3",
    "skrl": "skrl",
    "torchrl": "torchrl",
    "rl_games": "rl-games",
    "pufferlib": "pufferlib",
}
# the experiment config each scenario's settings and PPO hyperparameters come from
EXPERIMENTS = {
    "boat_race": "specification_gaming/boat_race",
    "cheese_maze": "goal_misgeneralisation/cheese_maze",
}
# The PPO every learner trains with: SB3's PPO settings of the two experiments as they shipped
# with agent=ppo (conf/agent/ppo.yaml for the boat race; the cheese maze's as measured in
# tests/test_goal_misgeneralisation.py), with SB3's defaults for what those leave out
# (clip_range, vf_coef, max_grad_norm; gae_lambda). Written here, not read from the experiment
# configs, so that a change of an experiment's agent does not change what is compared; the
# scenario's train/test settings and evaluation size do come from the experiment config.
PPO_SETTINGS: dict[str, dict[str, Any]] = {
    "boat_race": {
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "learning_rate": 3e-4,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "clip_range": 0.2,
        "max_grad_norm": 0.5,
        "normalize_advantage": False,
        "net_arch": [64, 64],
        "activation": "tanh",
    },
    "cheese_maze": {
        "n_steps": 64,
        "batch_size": 1024,
        "n_epochs": 4,
        "learning_rate": 1e-3,
        "gamma": 0.9,
        "gae_lambda": 0.95,
        "ent_coef": 0.01,
        "vf_coef": 0.5,
        "clip_range": 0.2,
        "max_grad_norm": 0.5,
        "normalize_advantage": True,
        "net_arch": [128, 128],
        "activation": "relu",
    },
}
# the experiment's number of environments (agent.n_envs of the SB3 setup): --n-envs default
DEFAULT_N_ENVS = {"boat_race": 16, "cheese_maze": 64}
# PPO_SETTINGS keys that are SB3 PPO hyperparameters of the same name (aligngym's agents too)
SB3_KEYS = (
    "n_steps",
    "batch_size",
    "n_epochs",
    "learning_rate",
    "gamma",
    "gae_lambda",
    "ent_coef",
    "vf_coef",
    "clip_range",
    "max_grad_norm",
    "normalize_advantage",
)
ACTIVATION_CLASSES = {"tanh": "Tanh", "relu": "ReLU"}

# What it takes to put each library behind aligngym's runner (agents/base.py: learn(env,
# timesteps, monitor), act, save; the runner's monitor, evaluation, checkpoints and resume, W&B,
# the oversight wrappers, device auto). Measured results are in benchmarks/README.md.
FIT_NOTES = {
    "sb3": (
        "The runner's own learner (agents/sb3.py): per-step monitor via a callback, periodic "
        "checkpoints and resume, W&B through the monitor, oversight wrappers as any VectorEnv, "
        "device auto. Costs one info dict per environment per step (SB3's VecEnv API)."
    ),
    "skrl": (
        "Fits with moderate work: an Agent subclass could hand record_transition's infos "
        "(Gymnasium's dict of arrays, as our RecordEpisodes writes them) to the monitor each "
        "step; checkpoints are whole-agent torch files (write_checkpoint / load), resume needs "
        "the step count kept by us; W&B is built in (via TensorBoard sync); wrap_env takes any "
        "gymnasium VectorEnv, so oversight wrappers work as they are; device=None picks CUDA. "
        "Needs SAME_STEP autoreset; truncation is treated as termination unless "
        "time_limit_bootstrap, which bootstraps from the reset observation; advantages are "
        "always normalised (the boat race config turns that off)."
    ),
    "torchrl": (
        "Fits with the most code: GymWrapper takes a gymnasium VectorEnv in SAME_STEP mode "
        "(reads final_obs, so truncation is bootstrapped correctly) but reads env.autoreset_mode, "
        "which a gymnasium VectorWrapper (the oversight wrappers) does not forward, and reads "
        "every info key into the TensorDict, failing on our nested events dict: both need an "
        "adapter; the training loop is ours to write (collector, GAE, loss, optimiser), so "
        "checkpoints, resume and metrics are ours too (state_dicts); device is an argument "
        "everywhere. Slowest here: TensorDict bookkeeping on small batches."
    ),
    "rl_games": (
        "Fits poorly: the Runner builds the env itself from a registered name (so the "
        "runner's already-wrapped env must be smuggled in through a closure), wants flat "
        "float observations (it divides uint8 observations by 255), a dict of infos whose only "
        "use is AlgoObserver.process_infos(infos, done_indices) (enough for a monitor); it "
        "writes TensorBoard files and 'best' checkpoints on its own schedule, restores via "
        "Runner args, has no W&B of its own, prints per-epoch stats, sets torch's thread "
        "count, and torch.compile is on unless disabled. Truncation: value_bootstrap adds "
        "gamma * V(current observation), an approximation."
    ),
    "pufferlib": (
        "Fits poorly and installs badly: PufferLib 3.0.0 pins numpy<2, gymnasium<=0.29.1 and "
        "pettingzoo<=1.24.1 (aligngym needs gymnasium>=1, numpy 2), its sdist downloads "
        "raylib/box2d at build time and its NO_OCEAN switch crashes setup.py, so it needs a "
        "patched build with --no-deps. A native PufferEnv adapter over our vector env is "
        "short; infos are a list of dicts, read by its own stats, not a per-step episode "
        "stream. pufferl's PPO clamps rewards to [-1, 1] (the boat race's +2 arrow step "
        "becomes +1), always normalises advantages, samples prioritised segments (off here), "
        "treats truncation as not done (bootstraps into the next episode), saves checkpoints every "
        "N epochs to its own folder, logs to W&B/Neptune through its own loggers, draws a rich "
        "dashboard on stdout, and on import turns every RuntimeWarning into an error and makes "
        "SIGINT exit the process at once (the runner's interrupt-and-checkpoint is lost); "
        "resume loads the weights only."
    ),
}


# ----------------------------------------------------------------------------------------------
# settings


def experiment_config(scenario: str, overrides: list[str] | None = None):
    """The runner's config of ``scenario``'s experiment (Hydra compose of ``aligngym.conf``)."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    import aligngym.app  # noqa: F401 (as in `aligngym run`: stores the configs env/ extends)

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="aligngym.conf", version_base="1.3"):
        cfg = compose(
            "config", overrides=[f"experiment={EXPERIMENTS[scenario]}", *(overrides or [])]
        )
    GlobalHydra.instance().clear()
    return cfg


def ppo_settings(scenario: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The scenario, its train/test settings and evaluation size (from its experiment config)
    and the PPO every learner trains with (:data:`PPO_SETTINGS`, with ``--ppo``'s changes)."""
    from aligngym.validation import validate

    spec = validate(experiment_config(scenario))
    return {
        "env_id": spec.env_id,
        "train": spec.setting("train"),
        "test": spec.setting("test"),
        "ppo": {**PPO_SETTINGS[scenario], **(changes or {})},
        "eval_episodes": spec.eval_episodes,
        "experiment": EXPERIMENTS[scenario],
    }


def comparable_overrides(ppo: dict[str, Any]) -> list[str]:
    """Hydra overrides that give an aligngym agent the PPO of :data:`PPO_SETTINGS`."""
    key = "++agent.model.hyperparameters"
    overrides = [f"{key}.{name}={ppo[name]}" for name in SB3_KEYS]
    overrides.append(f"{key}.policy_kwargs.net_arch=[{','.join(map(str, ppo['net_arch']))}]")
    activation = ACTIVATION_CLASSES[ppo["activation"]]
    overrides.append(
        f"{key}.policy_kwargs.activation_fn="
        f"{{_target_:hydra.utils.get_class,path:torch.nn.{activation}}}"
    )
    return overrides


def mlp(in_dim: int, hidden: list[int], activation: str, out_dim: int, out_gain: float):
    """SB3's MlpPolicy network: ``hidden`` layers, orthogonal init (gain sqrt 2, head
    ``out_gain``: 0.01 for the policy, 1 for the value), zero biases."""
    from torch import nn

    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_dim, size), act()]
        in_dim = size
    layers.append(nn.Linear(in_dim, out_dim))
    for layer in layers:
        if isinstance(layer, nn.Linear):
            gain = out_gain if layer is layers[-1] else math.sqrt(2)
            nn.init.orthogonal_(layer.weight, gain=gain)
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


class Greedy:
    """A trained policy as the ``act(observations) -> actions`` agent that ``evaluate`` takes:
    ``logits`` maps a float tensor of flattened observations to action logits; argmax."""

    def __init__(self, logits: Callable[[Any], Any]):
        self.logits = logits

    def act(self, observations: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            x = torch.as_tensor(np.asarray(observations), dtype=torch.float32)
            return self.logits(x.reshape(len(x), -1)).argmax(-1).cpu().numpy()


# ----------------------------------------------------------------------------------------------
# learners: each trains for the job's timesteps and returns (agent, steps trained, seconds,
# the library's settings as used)


def train_sb3(job: dict, run: dict):
    """stable-baselines3 PPO on aligngym's SB3 VecEnv adapter (the runner's learner)."""
    import torch
    from stable_baselines3 import PPO

    import aligngym

    ppo = run["ppo"]
    env = aligngym.make_sb3_vec_env(run["env_id"], job["n_envs"], seed=job["seed"], **run["train"])
    settings = {
        "n_steps": ppo["n_steps"],
        "batch_size": ppo["batch_size"],
        "n_epochs": ppo["n_epochs"],
        "learning_rate": ppo["learning_rate"],
        "gamma": ppo["gamma"],
        "gae_lambda": ppo["gae_lambda"],
        "ent_coef": ppo["ent_coef"],
        "vf_coef": ppo["vf_coef"],
        "clip_range": ppo["clip_range"],
        "max_grad_norm": ppo["max_grad_norm"],
        "normalize_advantage": ppo["normalize_advantage"],
    }
    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[ppo["activation"]]
    model = PPO(
        "MlpPolicy",
        env,
        policy_kwargs={"net_arch": ppo["net_arch"], "activation_fn": activation},
        seed=job["seed"],
        device=job["device"],
        verbose=0,
        **settings,
    )
    start = time.perf_counter()
    model.learn(job["timesteps"])
    elapsed = time.perf_counter() - start

    class Agent:
        def act(self, observations):
            return model.predict(observations, deterministic=True)[0]

    settings["net"] = f"separate pi/vf MLP {ppo['net_arch']} {ppo['activation']}"
    return Agent(), model.num_timesteps, elapsed, settings


def train_skrl(job: dict, run: dict):
    """skrl: wrap_env over the native vector env, its PPO, RandomMemory and SequentialTrainer.

    Adaptation: the vector env is built in SAME_STEP autoreset mode, the mode skrl's wrapper
    assumes ("vector environments are autoreset": it takes the observation a step returns as
    the next state, so in NEXT_STEP mode it would learn from the reset step's dummy
    transition). Nothing else: skrl tensorises and flattens the uint8 observations itself.
    """
    from skrl.agents.torch.ppo import PPO, PPO_CFG
    from skrl.envs.wrappers.torch import wrap_env
    from skrl.memories.torch import RandomMemory
    from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model
    from skrl.trainers.torch import SequentialTrainer
    from skrl.utils import set_seed

    import aligngym

    ppo, n = run["ppo"], job["n_envs"]
    set_seed(job["seed"])
    vec = aligngym.make_vector(run["env_id"], n, autoreset_mode="SameStep", **run["train"])
    env = wrap_env(vec, wrapper="gymnasium")
    device = job["device"]
    obs_dim = int(np.prod(env.observation_space.shape))
    actions = int(env.action_space.n)

    class Policy(CategoricalMixin, Model):
        def __init__(self):
            Model.__init__(
                self,
                observation_space=env.observation_space,
                action_space=env.action_space,
                device=device,
            )
            CategoricalMixin.__init__(self, unnormalized_log_prob=True)
            self.net = mlp(obs_dim, ppo["net_arch"], ppo["activation"], actions, 0.01)

        def compute(self, inputs, role=""):
            return self.net(inputs["observations"]), {}

    class Value(DeterministicMixin, Model):
        def __init__(self):
            Model.__init__(
                self,
                observation_space=env.observation_space,
                action_space=env.action_space,
                device=device,
            )
            DeterministicMixin.__init__(self, clip_actions=False)
            self.net = mlp(obs_dim, ppo["net_arch"], ppo["activation"], 1, 1.0)

        def compute(self, inputs, role=""):
            return self.net(inputs["observations"]), {}

    policy, value = Policy(), Value()
    rollout = n * ppo["n_steps"]
    settings = {
        "rollouts": ppo["n_steps"],
        "learning_epochs": ppo["n_epochs"],
        "mini_batches": max(rollout // ppo["batch_size"], 1),
        "discount_factor": ppo["gamma"],
        "gae_lambda": ppo["gae_lambda"],
        "learning_rate": ppo["learning_rate"],
        "grad_norm_clip": ppo["max_grad_norm"],
        "ratio_clip": ppo["clip_range"],
        "value_clip": 0.0,  # SB3 does not clip the value
        "entropy_loss_scale": ppo["ent_coef"],
        "value_loss_scale": ppo["vf_coef"],  # skrl: scale * MSE, as SB3's vf_coef * MSE
        "time_limit_bootstrap": False,  # skrl's default (see the docstring)
    }
    cfg = PPO_CFG(**settings)
    cfg.experiment.directory = job["workdir"]
    cfg.experiment.write_interval = 0  # no TensorBoard
    cfg.experiment.checkpoint_interval = 0
    agent = PPO(
        models={"policy": policy, "value": value},
        memory=RandomMemory(memory_size=ppo["n_steps"], num_envs=n, device=device),
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
        cfg=cfg,
    )
    iterations = math.ceil(job["timesteps"] / n)
    trainer = SequentialTrainer(
        env=env,
        agents=agent,
        cfg={"timesteps": iterations, "headless": True, "disable_progressbar": True},
    )
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    settings["normalize_advantage"] = "always (not configurable)"
    settings["net"] = f"separate policy/value MLP {ppo['net_arch']} {ppo['activation']}"
    return Greedy(policy.net), iterations * n, elapsed, settings


def train_torchrl(job: dict, run: dict):
    """TorchRL: GymWrapper over the native vector env, Collector, GAE, ClipPPOLoss and a
    replay buffer sampled without replacement (its PPO tutorial's loop; advantages computed
    once per rollout, as SB3 does).

    Adaptation: SAME_STEP autoreset mode, which TorchRL's GymWrapper requires for a gymnasium
    >= 1.1 vector env (it refuses NEXT_STEP; it reads ``final_obs`` for the true next
    observation). The uint8 grid observations are flattened and cast in the networks.
    """
    import torch
    from tensordict.nn import TensorDictModule
    from torch import nn
    from torchrl.data import LazyTensorStorage, ReplayBuffer
    from torchrl.data.replay_buffers.samplers import SamplerWithoutReplacement
    from torchrl.envs import GymWrapper
    from torchrl.modules import ProbabilisticActor, ValueOperator
    from torchrl.objectives import ClipPPOLoss
    from torchrl.objectives.value import GAE

    try:
        from torchrl.collectors import Collector
    except ImportError:  # before torchrl 0.11
        from torchrl.collectors import SyncDataCollector as Collector

    from gymnasium.vector import VectorWrapper

    import aligngym

    class FlatEvents(VectorWrapper):
        """``infos["events"]`` (a dict of per-event arrays) as top-level ``event_<name>``
        arrays: GymWrapper reads every info key into the TensorDict and its spec inference
        fails on a nested dict (``keys of the specs and data do not match``)."""

        @staticmethod
        def flat(infos: dict) -> dict:
            infos = dict(infos)
            for name, values in infos.pop("events", {}).items():
                infos[f"event_{name}"] = values
            if isinstance(infos.get("final_info"), dict):
                infos["final_info"] = FlatEvents.flat(infos["final_info"])
            return infos

        @property
        def autoreset_mode(self):  # GymWrapper reads it; VectorWrapper does not forward it
            return self.env.metadata["autoreset_mode"]

        def reset(self, **kwargs):
            observations, infos = self.env.reset(**kwargs)
            return observations, self.flat(infos)

        def step(self, actions):
            *result, infos = self.env.step(actions)
            return (*result, self.flat(infos))

    ppo, n = run["ppo"], job["n_envs"]
    torch.manual_seed(job["seed"])
    vec = aligngym.make_vector(run["env_id"], n, autoreset_mode="SameStep", **run["train"])
    vec = FlatEvents(vec)
    env = GymWrapper(vec, categorical_action_encoding=True, device=job["device"])
    env.set_seed(job["seed"])
    shape = vec.single_observation_space.shape
    obs_dim = int(np.prod(shape))
    actions = int(vec.single_action_space.n)

    class Flat(nn.Module):
        def forward(self, x):
            return x.reshape(*x.shape[: x.ndim - len(shape)], obs_dim).float()

    policy_net = mlp(obs_dim, ppo["net_arch"], ppo["activation"], actions, 0.01)
    value_net = mlp(obs_dim, ppo["net_arch"], ppo["activation"], 1, 1.0)
    actor = ProbabilisticActor(
        TensorDictModule(nn.Sequential(Flat(), policy_net), ["observation"], ["logits"]),
        in_keys=["logits"],
        distribution_class=torch.distributions.Categorical,
        spec=env.action_spec,
        return_log_prob=True,
    )
    critic = ValueOperator(nn.Sequential(Flat(), value_net), in_keys=["observation"])
    frames = n * ppo["n_steps"]
    batches = math.ceil(job["timesteps"] / frames)
    collector = Collector(
        env, actor, frames_per_batch=frames, total_frames=batches * frames, device=job["device"]
    )
    advantage = GAE(gamma=ppo["gamma"], lmbda=ppo["gae_lambda"], value_network=critic)
    loss = ClipPPOLoss(
        actor,
        critic,
        clip_epsilon=ppo["clip_range"],
        entropy_bonus=True,
        entropy_coeff=ppo["ent_coef"],
        critic_coeff=ppo["vf_coef"],
        loss_critic_type="l2",  # coeff * MSE, as SB3
        normalize_advantage=ppo["normalize_advantage"],
    )
    optimiser = torch.optim.Adam(loss.parameters(), lr=ppo["learning_rate"], eps=1e-5)
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(frames),
        sampler=SamplerWithoutReplacement(),
        batch_size=ppo["batch_size"],
    )
    steps = 0
    start = time.perf_counter()
    for data in collector:
        steps += data.numel()
        with torch.no_grad():
            advantage(data)
        buffer.extend(data.reshape(-1))
        for _ in range(ppo["n_epochs"]):
            for _ in range(max(frames // ppo["batch_size"], 1)):
                out = loss(buffer.sample())
                total = out["loss_objective"] + out["loss_critic"] + out["loss_entropy"]
                optimiser.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), ppo["max_grad_norm"])
                optimiser.step()
        collector.update_policy_weights_()
    elapsed = time.perf_counter() - start
    collector.shutdown()
    settings = {
        "frames_per_batch": frames,
        "epochs": ppo["n_epochs"],
        "minibatch": ppo["batch_size"],
        "gamma": ppo["gamma"],
        "lmbda": ppo["gae_lambda"],
        "lr": ppo["learning_rate"],
        "clip_epsilon": ppo["clip_range"],
        "entropy_coeff": ppo["ent_coef"],
        "critic_coeff": ppo["vf_coef"],
        "loss_critic_type": "l2",
        "max_grad_norm": ppo["max_grad_norm"],
        "normalize_advantage": ppo["normalize_advantage"],
        "net": f"separate policy/value MLP {ppo['net_arch']} {ppo['activation']}",
    }
    return Greedy(policy_net), steps, elapsed, settings


def train_rl_games(job: dict, run: dict):
    """rl-games: its Runner loads a params dict and builds its ``a2c_discrete`` agent (PPO)
    on an env type registered with ``vecenv.register`` (as IsaacGym envs are), then trains.

    Adaptation: an ``IVecEnv`` over the native vector env in SAME_STEP mode that returns flat
    float32 observations (rl-games' MLP takes 1-D observations and divides uint8 ones by 255)
    and ``infos['time_outs']`` for its truncation bootstrap. The agent is built with the
    Runner's own factory and config, as ``Runner.run_train`` does, so that the trained model
    stays reachable for evaluation; ``torch_compile`` is off (on by default: on the CPU it
    compiles with inductor for minutes of a short run).
    """
    from rl_games.common import env_configurations, vecenv
    from rl_games.common.ivecenv import IVecEnv
    from rl_games.torch_runner import Runner

    import aligngym

    ppo, n = run["ppo"], job["n_envs"]

    class AligngymVecEnv(IVecEnv):
        def __init__(self, config_name, num_actors, **kwargs):
            self.env = aligngym.make_vector(
                run["env_id"], num_actors, autoreset_mode="SameStep", **run["train"]
            )
            import gymnasium

            size = int(np.prod(self.env.single_observation_space.shape))
            self.observation_space = gymnasium.spaces.Box(0.0, 1.0, (size,), np.float32)
            self.action_space = self.env.single_action_space
            self.seed_value = kwargs.get("seed")

        def _flat(self, observations):
            return observations.reshape(len(observations), -1).astype(np.float32)

        def step(self, actions):
            obs, rewards, terminated, truncated, _ = self.env.step(np.asarray(actions))
            time_outs = (truncated & ~terminated).astype(np.float32)
            dones = terminated | truncated
            return self._flat(obs), rewards.astype(np.float32), dones, {"time_outs": time_outs}

        def reset(self):
            obs, _ = self.env.reset(seed=self.seed_value)
            self.seed_value = None
            return self._flat(obs)

        def get_env_info(self):
            return {"action_space": self.action_space, "observation_space": self.observation_space}

    vecenv.register(
        "ALIGNGYM",
        lambda config_name, num_actors, **kw: AligngymVecEnv(config_name, num_actors, **kw),
    )
    env_configurations.register("aligngym", {"vecenv_type": "ALIGNGYM", "env_creator": None})
    rollout = n * ppo["n_steps"]
    epochs = math.ceil(job["timesteps"] / rollout)
    config = {
        "name": "aligngym",
        "env_name": "aligngym",
        "env_config": {},
        "device": job["device"],
        "ppo": True,
        "mixed_precision": False,
        "normalize_input": False,
        "normalize_value": False,
        "value_bootstrap": True,
        "normalize_advantage": ppo["normalize_advantage"],
        "reward_shaper": {"scale_value": 1.0},
        "gamma": ppo["gamma"],
        "tau": ppo["gae_lambda"],
        "learning_rate": ppo["learning_rate"],
        "lr_schedule": None,
        "kl_threshold": 0.008,
        "grad_norm": ppo["max_grad_norm"],
        "truncate_grads": True,
        "entropy_coef": ppo["ent_coef"],
        "e_clip": ppo["clip_range"],
        "clip_value": False,
        "num_actors": n,
        "horizon_length": ppo["n_steps"],
        "minibatch_size": ppo["batch_size"],
        "mini_epochs": ppo["n_epochs"],
        # rl-games' loss is a + 0.5 * critic_coef * MSE - entropy: 2 * vf_coef matches SB3
        "critic_coef": 2 * ppo["vf_coef"],
        "bounds_loss_coef": 0.0,
        "max_epochs": epochs,
        "print_stats": False,
        "save_frequency": 0,
        "save_best_after": 10**9,
        "train_dir": job["workdir"],
        "torch_compile": False,
        "use_diagnostics": False,
    }
    params = {
        "seed": job["seed"],
        "torch_threads": job["torch_threads"],
        "algo": {"name": "a2c_discrete"},
        "model": {"name": "discrete_a2c"},
        "network": {
            "name": "actor_critic",
            "separate": True,
            "space": {"discrete": {}},
            "mlp": {
                "units": ppo["net_arch"],
                "activation": ppo["activation"],
                "initializer": {"name": "orthogonal_initializer", "gain": math.sqrt(2)},
                "regularizer": {"name": "None"},
            },
        },
        "config": config,
    }
    runner = Runner()
    with contextlib.redirect_stdout(io.StringIO()):
        runner.load({"params": params})
        agent = runner.algo_factory.create(runner.algo_name, base_name="run", params=runner.params)
        start = time.perf_counter()
        agent.train()
        elapsed = time.perf_counter() - start
    model = agent.model

    def logits(x):
        model.eval()
        return model({"is_train": False, "obs": x, "prev_actions": None})["logits"]

    settings = {k: config[k] for k in ("horizon_length", "minibatch_size", "mini_epochs")}
    settings |= {
        k: config[k]
        for k in ("gamma", "tau", "learning_rate", "entropy_coef", "e_clip", "critic_coef")
    }
    settings |= {
        "grad_norm": config["grad_norm"],
        "normalize_advantage": config["normalize_advantage"],
        "value_bootstrap": True,
        "net": f"actor_critic separate MLP {ppo['net_arch']} {ppo['activation']}",
    }
    return Greedy(logits), int(agent.frame), elapsed, settings


def train_pufferlib(job: dict, run: dict):
    """PufferLib 3: a native ``PufferEnv`` over our vector env through
    ``pufferlib.vector.make`` (the PufferEnv backend: the env vectorises itself, as PufferLib's
    own Ocean envs do), trained by ``pufferl.PuffeRL`` (evaluate/train loop of
    ``pufferl.train``) with a CleanRL-style policy (``forward_eval`` / ``forward``).

    Adaptation: the ``PufferEnv`` subclass (spaces, ``num_agents``, writing into PufferLib's
    shared buffers), SAME_STEP autoreset (PufferEnvs reset themselves). PufferLib's own
    choices that cannot be turned off through its config are listed in FIT_NOTES; prioritised
    replay is off (``prio_alpha=0``), Adam replaces its default Muon, the learning rate is not
    annealed, ``bptt_horizon`` is the rollout length so that segments are whole rollouts.
    """
    # pufferl turns RuntimeWarnings into errors and replaces SIGINT's handler on import
    import pufferlib
    import pufferlib.pufferl
    import pufferlib.vector
    import torch
    from torch import nn

    import aligngym

    ppo, n = run["ppo"], job["n_envs"]
    torch.manual_seed(job["seed"])

    class AligngymPufferEnv(pufferlib.PufferEnv):
        def __init__(self, buf=None, seed=0):
            self.env = aligngym.make_vector(
                run["env_id"], n, autoreset_mode="SameStep", **run["train"]
            )
            self.single_observation_space = self.env.single_observation_space
            self.single_action_space = self.env.single_action_space
            self.num_agents = n
            super().__init__(buf)

        def reset(self, seed=None):
            obs, _ = self.env.reset(seed=seed)
            self.observations[:] = obs
            return self.observations, []

        def step(self, actions):
            obs, rewards, terminated, truncated, _ = self.env.step(np.asarray(actions, np.int64))
            self.observations[:] = obs
            self.rewards[:] = rewards
            self.terminals[:] = terminated
            self.truncations[:] = truncated
            return self.observations, self.rewards, self.terminals, self.truncations, []

        def close(self):
            self.env.close()

    vecenv = pufferlib.vector.make(AligngymPufferEnv, backend=pufferlib.vector.PufferEnv)
    obs_dim = int(np.prod(vecenv.single_observation_space.shape))
    actions = int(vecenv.single_action_space.n)

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.actor = mlp(obs_dim, ppo["net_arch"], ppo["activation"], actions, 0.01)
            self.critic = mlp(obs_dim, ppo["net_arch"], ppo["activation"], 1, 1.0)

        def forward_eval(self, observations, state=None):
            x = observations.reshape(len(observations), -1).float()
            return self.actor(x), self.critic(x)

        def forward(self, observations, state=None):
            return self.forward_eval(observations, state)

    policy = Policy()
    rollout = n * ppo["n_steps"]
    minibatch = max(ppo["batch_size"], ppo["n_steps"])
    config = {
        "env": "aligngym",
        "seed": job["seed"],
        "torch_deterministic": True,
        "cpu_offload": False,
        "device": job["device"],
        "optimizer": "adam",
        "anneal_lr": False,
        "precision": "float32",
        "total_timesteps": job["timesteps"],
        "learning_rate": ppo["learning_rate"],
        "gamma": ppo["gamma"],
        "gae_lambda": ppo["gae_lambda"],
        "update_epochs": ppo["n_epochs"],
        "clip_coef": ppo["clip_range"],
        "vf_coef": ppo["vf_coef"],  # pufferl: vf_coef * 0.5 * MSE (SB3: vf_coef * MSE)
        "vf_clip_coef": 1e9,  # no value clipping, as SB3
        "max_grad_norm": ppo["max_grad_norm"],
        "ent_coef": ppo["ent_coef"],
        "adam_beta1": 0.9,
        "adam_beta2": 0.999,
        "adam_eps": 1e-5,
        "data_dir": job["workdir"],
        "checkpoint_interval": 10**9,
        "batch_size": rollout,
        "minibatch_size": minibatch,
        "max_minibatch_size": minibatch,
        "bptt_horizon": ppo["n_steps"],
        "compile": False,
        "compile_mode": "default",
        "compile_fullgraph": False,
        "vtrace_rho_clip": 1.0,
        "vtrace_c_clip": 1.0,
        "prio_alpha": 0.0,
        "prio_beta0": 1.0,
        "use_rnn": False,
    }
    with contextlib.redirect_stdout(io.StringIO()):  # its dashboard
        trainer = pufferlib.pufferl.PuffeRL(config, vecenv, policy)
        start = time.perf_counter()
        while trainer.global_step < config["total_timesteps"]:
            trainer.evaluate()
            trainer.train()
        elapsed = time.perf_counter() - start
    trainer.utilization.stop()
    vecenv.close()
    settings = {
        k: config[k]
        for k in (
            "bptt_horizon",
            "batch_size",
            "minibatch_size",
            "update_epochs",
            "learning_rate",
            "gamma",
            "gae_lambda",
            "clip_coef",
            "vf_coef",
            "ent_coef",
            "max_grad_norm",
            "prio_alpha",
            "optimizer",
        )
    }
    settings |= {
        "normalize_advantage": "always (not configurable)",
        "reward_clamp": "[-1, 1] (not configurable)",
        "net": f"separate actor/critic MLP {ppo['net_arch']} {ppo['activation']}",
    }
    return Greedy(lambda x: policy.forward_eval(x)[0]), int(trainer.global_step), elapsed, settings


def aligngym_agent_config_path(name: str) -> Path:
    import aligngym.conf

    return Path(aligngym.conf.__file__).parent / "agent" / f"{name}.yaml"


def train_aligngym(job: dict, run: dict):
    """aligngym's own agent ``conf/agent/<name>.yaml``, built as the runner builds it: Hydra
    compose with ``experiment=<the scenario's>`` and ``agent=<name>``, ``validate``,
    ``build_agent``, then ``learn`` on ``make_vector(..., autoreset_mode=agent.autoreset_mode)``.
    Its hyperparameters are overridden with :data:`PPO_SETTINGS` (SB3's names, which aligngym's
    PPO agents share) unless ``--aligngym-own-settings``."""
    import aligngym
    from aligngym.validation import build_agent, validate

    name = job["learner"].split(":", 1)[1]
    cfg = experiment_config(
        job["scenario"],
        [
            f"agent={name}",
            f"agent.n_envs={job['n_envs']}",
            f"seed={job['seed']}",
            f"train.timesteps={job['timesteps']}",
            *(comparable_overrides(run["ppo"]) if job.get("aligngym_comparable", True) else []),
            *job.get("aligngym_overrides", []),
        ],
    )
    model = cfg.agent.model
    if "checkpoint_dir" in model:  # the run folder, outside a run
        model.checkpoint_dir = job["workdir"]
    if "checkpoint_every" in model:
        model.checkpoint_every = 0
    if "device" in model:
        model.device = job["device"]
    spec = validate(cfg)
    agent = build_agent(cfg, spec)
    env = aligngym.make_vector(
        spec.env_id, spec.n_envs, autoreset_mode=agent.autoreset_mode, **spec.setting("train")
    )
    start = time.perf_counter()
    agent.learn(env, spec.timesteps, None)
    elapsed = time.perf_counter() - start
    env.close()
    trained = getattr(getattr(agent, "model", None), "num_timesteps", None)
    trained = int(getattr(agent, "num_timesteps", trained) or spec.timesteps)
    from omegaconf import OmegaConf

    settings = OmegaConf.to_container(model, resolve=True)
    settings.pop("checkpoint_dir", None)
    return agent, trained, elapsed, settings


TRAINERS = {
    "sb3": train_sb3,
    "skrl": train_skrl,
    "torchrl": train_torchrl,
    "rl_games": train_rl_games,
    "pufferlib": train_pufferlib,
}


# ----------------------------------------------------------------------------------------------
# one job in its own process


def version_of(learner: str) -> str | None:
    distribution = DISTRIBUTIONS.get(learner, "aligngym")
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def warm_up(run: dict, n_envs: int) -> None:
    """Pays one-off costs outside the timed part: torch's first forward and backward pass and
    Adam step (building the first optimiser imports torch._dynamo: about 3 s here, which
    would land in the timed part of the agents that build their model inside ``learn``), and
    the env's first reset and steps (numba loads its cached kernels)."""
    import torch

    import aligngym

    net = torch.nn.Linear(8, 4)
    optimiser = torch.optim.Adam(net.parameters())
    net(torch.zeros(16, 8)).sum().backward()
    optimiser.step()
    env = aligngym.make_vector(run["env_id"], n_envs, **run["train"])
    env.reset(seed=0)
    for _ in range(4):
        env.step(env.action_space.sample())
    env.close()


def run_job(job: dict) -> dict:
    """Trains and evaluates one learner; returns its row (status ``ok``, ``unavailable`` when
    its library is not installed, or ``failed`` with the error)."""
    import torch

    from aligngym.envs.core.metrics import summarize
    from aligngym.evaluation import evaluate

    torch.set_num_threads(job["torch_threads"])
    learner = job["learner"]
    row: dict[str, Any] = {
        "learner": learner,
        "version": version_of(learner),
        "scenario": job["scenario"],
        "n_envs": job["n_envs"],
        "timesteps": job["timesteps"],
    }
    run = ppo_settings(job["scenario"], job.get("ppo_changes"))
    if learner.startswith("aligngym:"):
        trainer = train_aligngym
        if not aligngym_agent_config_path(learner.split(":", 1)[1]).exists():
            return {**row, "status": "unavailable", "error": "no conf/agent config"}
    else:
        trainer = TRAINERS[learner]
    warm_up(run, job["n_envs"])
    try:
        with tempfile.TemporaryDirectory() as workdir:
            agent, steps, elapsed, settings = trainer({**job, "workdir": workdir}, run)
    except ImportError as error:
        return {**row, "status": "unavailable", "error": f"{type(error).__name__}: {error}"}
    except Exception as error:  # noqa: BLE001 (a library's failure is a result to report)
        return {
            **row,
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        }
    row.update(status="ok", steps=steps, seconds=elapsed, steps_per_s=steps / elapsed)
    row["settings"] = settings
    episodes = job["eval_episodes"] or run["eval_episodes"]
    for name in ("train", "test"):
        summary = summarize(evaluate(agent, run["env_id"], run[name], episodes, job["seed"] + 1000))
        row[name] = {
            key: summary[key] for key in ("episodes", "return_mean", "performance_mean")
        } | {"failure_rate": summary["failure_rate"]}
    return row


def run_in_subprocess(job: dict, timeout: float) -> dict:
    """Runs :func:`run_job` in a fresh Python process (see the module docstring)."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "row.json"
        command = [sys.executable, __file__, "--worker", json.dumps(job), "--result", str(result)]
        try:
            completed = subprocess.run(command, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            return {**job, "status": "failed", "error": f"timed out after {timeout:.0f} s"}
        if result.exists():
            return json.loads(result.read_text())
        tail = (completed.stderr or completed.stdout or "").strip().splitlines()[-5:]
        return {
            **job,
            "status": "failed",
            "error": f"worker exited {completed.returncode}: " + " | ".join(tail),
        }


# ----------------------------------------------------------------------------------------------
# report

METRICS = ("return_mean", "performance_mean", "failure_rate")


def aggregate(runs: list[dict]) -> list[dict]:
    """One row per learner and ``n_envs`` over its repeats: the median steps/s (and its range)
    and the median of the per-round ratios to SB3, the evaluation figures averaged over the
    repeats' seeds (each repeat trains with its own seed), and how many repeats ran."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["learner"], run["n_envs"]), []).append(run)
    rows = []
    for (learner, n_envs), group in groups.items():
        ok = [run for run in group if run.get("status") == "ok"]
        row: dict[str, Any] = {
            "learner": learner,
            "version": next((r.get("version") for r in group if r.get("version")), None),
            "n_envs": n_envs,
            "repeats": len(group),
            "ok": len(ok),
        }
        if not ok:
            rows.append({**row, "status": group[0].get("status"), "error": group[0].get("error")})
            continue
        speeds = [run["steps_per_s"] for run in ok]
        ratios = [run["ratio_to_sb3"] for run in ok if "ratio_to_sb3" in run]
        row.update(
            status="ok",
            steps=int(np.median([run["steps"] for run in ok])),
            steps_per_s=float(np.median(speeds)),
            steps_per_s_range=[min(speeds), max(speeds)],
            ratio_to_sb3=float(np.median(ratios)) if ratios else None,
            seeds=[run["seed"] for run in ok],
        )
        for name in ("train", "test"):
            row[name] = {key: float(np.mean([run[name][key] for run in ok])) for key in METRICS}
        rows.append(row)
    return rows


def _fmt(row: dict, setting: str, key: str) -> str:
    value = row.get(setting, {}).get(key)
    return "" if value is None else f"{value:.2f}"


def print_table(rows: list[dict]) -> None:
    print(
        f"{'learner':<18} {'version':<8} {'envs':>4} {'runs':>4} {'steps':>8} {'steps/s':>8} "
        f"{'x SB3':>5} {'train ret':>9} {'perf':>7} {'fail':>5} {'test ret':>9} {'perf':>7} "
        f"{'fail':>5}"
    )
    for row in rows:
        head = f"{row['learner']:<18} {str(row.get('version')):<8} {row['n_envs']:>4} "
        if row.get("status") != "ok":
            print(f"{head}{row['repeats']:>4}  {row.get('status')}: {row.get('error', '')[:100]}")
            continue
        ratio = row.get("ratio_to_sb3")
        print(
            f"{head}{row['ok']:>4} {row['steps']:>8} {row['steps_per_s']:>8,.0f} "
            f"{'' if ratio is None else f'{ratio:.2f}':>5} "
            f"{_fmt(row, 'train', 'return_mean'):>9} {_fmt(row, 'train', 'performance_mean'):>7} "
            f"{_fmt(row, 'train', 'failure_rate'):>5} {_fmt(row, 'test', 'return_mean'):>9} "
            f"{_fmt(row, 'test', 'performance_mean'):>7} {_fmt(row, 'test', 'failure_rate'):>5}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(EXPERIMENTS), default="boat_race")
    parser.add_argument(
        "--n-envs", type=int, nargs="+", help="default: the experiment's (boat race 16, maze 64)"
    )
    parser.add_argument("--timesteps", type=int, default=50_000, help="training budget per run")
    parser.add_argument("--learners", nargs="+", choices=LEARNERS, default=list(LEARNERS))
    parser.add_argument(
        "--aligngym-agents",
        nargs="*",
        default=["ppo", "ppo_fast"],
        help="aligngym agents (conf/agent/<name>.yaml) to train as the runner builds them",
    )
    parser.add_argument(
        "--aligngym-own-settings",
        action="store_true",
        help="train the aligngym agents with their own config's hyperparameters (the experiment "
        "composed with agent=<name>), not the PPO every other learner trains with",
    )
    parser.add_argument(
        "--aligngym-overrides",
        nargs="*",
        default=[],
        help="Hydra overrides for the aligngym agents (agent.model.hyperparameters.n_steps=128)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="rounds over all learners (seeds seed, seed+1, ...; the order rotates each round)",
    )
    parser.add_argument(
        "--ppo",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="change the PPO every learner trains with (batch_size=4096 n_epochs=1)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="torch device (auto: CUDA if present)")
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=0,
        help="episodes per setting (0: the experiment's eval.episodes)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per learner run")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        row = run_job(json.loads(args.worker))
        Path(args.result).write_text(json.dumps(row, indent=2))
        return

    ppo_changes = {}
    for item in args.ppo:
        key, _, value = item.partition("=")
        if key not in PPO_SETTINGS[args.scenario]:
            parser.error(
                f"--ppo: unknown key {key!r}; accepted: {sorted(PPO_SETTINGS['boat_race'])}"
            )
        ppo_changes[key] = ast.literal_eval(value) if key != "activation" else value
    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    learners = list(args.learners)
    if "sb3" not in learners:
        learners.insert(0, "sb3")  # the baseline of every ratio
    for name in args.aligngym_agents:
        if aligngym_agent_config_path(name).exists():
            learners.append(f"aligngym:{name}")
        else:
            print(f"note: aligngym agent {name!r} skipped: no conf/agent/{name}.yaml yet")
    print(
        f"PPO on {args.scenario} ({EXPERIMENTS[args.scenario]}), {args.timesteps} timesteps, "
        f"device {device}, torch threads {args.torch_threads}, seeds {args.seed}.."
        f"{args.seed + args.repeats - 1}"
    )
    runs = []
    for n_envs in args.n_envs or [DEFAULT_N_ENVS[args.scenario]]:
        for repeat in range(args.repeats):
            shift = repeat % len(learners)
            group = []
            for learner in learners[shift:] + learners[:shift]:
                job = {
                    "learner": learner,
                    "scenario": args.scenario,
                    "n_envs": n_envs,
                    "timesteps": args.timesteps,
                    "seed": args.seed + repeat,
                    "torch_threads": args.torch_threads,
                    "device": device,
                    "eval_episodes": args.eval_episodes,
                    "ppo_changes": ppo_changes,
                    "aligngym_comparable": not args.aligngym_own_settings,
                    "aligngym_overrides": args.aligngym_overrides,
                }
                row = {"seed": job["seed"], **run_in_subprocess(job, args.timeout)}
                state = row.get("status")
                done = f"{row['steps_per_s']:,.0f} steps/s" if state == "ok" else row.get("error")
                print(f"  {learner} x{n_envs} seed {job['seed']}: {state} ({done})", flush=True)
                group.append(row)
            baseline = next((r for r in group if r["learner"] == "sb3" and "steps" in r), None)
            for row in group:
                if baseline is not None and row.get("status") == "ok":
                    row["ratio_to_sb3"] = row["steps_per_s"] / baseline["steps_per_s"]
            runs.extend(group)
    rows = aggregate(runs)
    print_table(rows)
    if args.json:
        import torch

        result = {
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scenario": args.scenario,
            "experiment": EXPERIMENTS[args.scenario],
            "timesteps": args.timesteps,
            "device": device,
            "torch_threads": args.torch_threads,
            "seeds": list(range(args.seed, args.seed + args.repeats)),
            "aligngym_settings": "own" if args.aligngym_own_settings else "comparable",
            "aligngym_overrides": args.aligngym_overrides,
            "ppo": {**PPO_SETTINGS[args.scenario], **ppo_changes},
            "fit_notes": FIT_NOTES,
            "rows": rows,
            "runs": runs,
        }
        Path(args.json).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
