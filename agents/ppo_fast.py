"""PPO at the engine's speed: one file in CleanRL's style over torch tensors.

:class:`FastPPOAgent` trains on the Gymnasium vector env the runner hands it (the scenario's
native batched env, possibly wrapped by an oversight module), in ``SAME_STEP`` autoreset mode,
with the PPO of Schulman et al. (2017) as CleanRL's ``ppo.py`` writes it: rollouts of
``n_steps`` steps from every environment into preallocated tensors, generalised advantage
estimation, ``n_epochs`` passes of the clipped surrogate, value (unclipped, SB3's default) and
entropy losses over shuffled minibatches, gradient clipping, one Adam optimiser. What makes it
fast is what SB3 pays for per step and per minibatch and this file does not: no
per-environment info dicts, no rollout buffer copying numpy arrays, one forward pass per
batched step, and minibatches of thousands of samples, over thousands of environments.

The hyperparameters keep the names of SB3's PPO (``n_steps``, ``batch_size``, ``n_epochs``,
``learning_rate``, ``gamma``, ``gae_lambda``, ``clip_range``, ``ent_coef``, ``vf_coef``,
``max_grad_norm``, ``normalize_advantage``, ``policy_kwargs.net_arch`` /
``policy_kwargs.activation_fn``), and the policy is SB3's ``MlpPolicy``: separate actor and
critic MLPs over the flattened observation, orthogonal initialisation (gain sqrt(2) in hidden
layers, 0.01 for the action logits, 1 for the value). Episodes cut by the step limit bootstrap
from the value of their final observation, as SB3 does.

Everything random (initial weights, sampled actions, minibatch order) comes from generators
seeded with the agent's seed, so the same seed gives the same run.

Where the scenario modifies its agent (``info["agent_exploration"]``,
:mod:`aligngym.envs.core.modification`), the modified actions are carried out, from a
generator seeded with the agent's seed, while the rollout keeps the actions the policy chose
and their log-probabilities, as SB3's PPO does: the policy gradient credits each choice with
what followed the executed action, and the modification reaches the agent only through the
returns its critic learns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from torch import nn

from aligngym.agents.base import TrainingMonitor, recording, report_step
from aligngym.agents.devices import resolve_device
from aligngym.agents.hyperparameters import check_ranges, plain
from aligngym.envs.core.modification import exploration_rng, modified_actions
from aligngym.envs.registry import card_of

#: the name under which the agent's settings travel inside a saved file
_META_KEY = "aligngym_agent"
ALGO = "ppo_fast"
ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}
#: the settings that travel in ``policy_kwargs``, as SB3 passes its policy's arguments
POLICY_KWARGS = ("net_arch", "activation_fn")


@dataclass(frozen=True)
class PPOSettings:
    """PPO's hyperparameters, named as SB3's ``PPO`` names them.

    Attributes:
        n_steps: steps collected from every environment per update.
        batch_size: minibatch size of the gradient steps (``n_steps * n_envs`` is split into
            minibatches of this size; a remainder joins the last one).
        n_epochs: passes over each rollout.
        learning_rate: Adam's step size.
        gamma: the discount factor.
        gae_lambda: the GAE trace parameter.
        clip_range: the surrogate's clipping range.
        ent_coef: the entropy bonus's weight.
        vf_coef: the value loss's weight.
        max_grad_norm: gradients are clipped to this global norm.
        normalize_advantage: normalise the advantages of each minibatch.
        net_arch: the hidden layer sizes, the same for actor and critic.
        activation_fn: ``"tanh"``, ``"relu"`` or ``"elu"``.
    """

    n_steps: int = 8
    batch_size: int = 1024
    n_epochs: int = 1
    learning_rate: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantage: bool = False
    net_arch: tuple[int, ...] = field(default=(64, 64))
    activation_fn: str = "relu"

    @classmethod
    def from_config(cls, hyperparameters: Mapping[str, Any] | None) -> PPOSettings:
        """Builds the settings from a config's ``hyperparameters`` (SB3's names), refusing an
        unknown name or a value out of range with the key and what is accepted.

        ``policy_kwargs`` may hold ``net_arch`` (a list of sizes) and ``activation_fn`` (a
        torch module class, as SB3 takes it, or one of :data:`ACTIVATIONS`' names).
        """
        values = plain(hyperparameters)
        policy = plain(values.pop("policy_kwargs", None))
        accepted = {f.name for f in fields(cls)} - set(POLICY_KWARGS)
        unknown = set(values) - accepted
        if unknown:
            raise ValueError(
                f"ppo_fast has no hyperparameter {sorted(unknown)}; accepted: {sorted(accepted)}"
                f" and policy_kwargs.{{{', '.join(POLICY_KWARGS)}}}"
            )
        extra = set(policy) - set(POLICY_KWARGS)
        if extra:
            raise ValueError(
                f"ppo_fast's policy_kwargs takes {list(POLICY_KWARGS)}, not {sorted(extra)}"
            )
        check_ranges(values)
        if "net_arch" in policy:
            values["net_arch"] = _net_arch(policy["net_arch"])
        if "activation_fn" in policy:
            values["activation_fn"] = _activation_name(policy["activation_fn"])
        return cls(**values)


def _net_arch(value: Any) -> tuple[int, ...]:
    sizes = list(value) if isinstance(value, (list, tuple)) else []
    if not sizes or not all(type(size) is int and size > 0 for size in sizes):
        raise ValueError(f"policy_kwargs.net_arch must be a list of sizes > 0, got {value!r}")
    return tuple(sizes)


def _activation_name(value: Any) -> str:
    for name, module in ACTIVATIONS.items():
        if value is module or value == name:
            return name
    raise ValueError(
        f"policy_kwargs.activation_fn must be one of {list(ACTIVATIONS)} (or torch.nn.Tanh, "
        f"ReLU, ELU), got {value!r}"
    )


def _linear(n_in: int, n_out: int, gain: float, generator: torch.Generator) -> nn.Linear:
    """A linear layer with SB3's orthogonal initialisation (bias 0)."""
    linear = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(linear.weight, gain, generator=generator)
    nn.init.zeros_(linear.bias)
    return linear


def _hidden(sizes: list[int], activation: type[nn.Module], generator: torch.Generator):
    """The hidden layers over ``sizes`` (input size first), each followed by ``activation``."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [_linear(n_in, n_out, np.sqrt(2), generator), activation()]
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """SB3's ``MlpPolicy`` for discrete actions: separate actor and critic MLPs over the
    flattened observation.

    Args:
        obs_size: the length of a flattened observation.
        num_actions: the number of discrete actions.
        net_arch: hidden layer sizes of each of the two MLPs.
        activation: the hidden layers' activation.
        generator: draws the initial weights.
    """

    def __init__(self, obs_size: int, num_actions: int, net_arch: tuple[int, ...],
                 activation: type[nn.Module], generator: torch.Generator):  # fmt: skip
        super().__init__()
        sizes = [obs_size, *net_arch]
        self.actor_body = _hidden(sizes, activation, generator)
        self.actor_head = _linear(sizes[-1], num_actions, 0.01, generator)
        self.critic_body = _hidden(sizes, activation, generator)
        self.critic_head = _linear(sizes[-1], 1, 1.0, generator)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The action logits ``(n, num_actions)`` and values ``(n,)`` of a batch."""
        return self.logits(obs), self.value(obs)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """The actor's logits ``(n, num_actions)`` of a batch."""
        return self.actor_head(self.actor_body(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic's values ``(n,)`` of a batch."""
        return self.critic_head(self.critic_body(obs)).squeeze(-1)


class FastPPOAgent:
    """PPO on torch tensors and the native batched env, as a runner agent.

    Args:
        env_id: the scenario it is trained on (recorded with saved models).
        seed: seeds the agent's generator (weights, actions, minibatch order) and the
            training env's first reset.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        checkpoint_dir: folder for periodic checkpoints (``None``: none).
        checkpoint_every: checkpoint period in environment steps, all environments counted
            (``0``: none). Checkpoints are taken at the end of the rollout that crosses it.
        resume_from: a file saved by :meth:`save` (a checkpoint) to continue training from:
            weights, optimiser state and timesteps. :meth:`learn` then trains only the steps
            it still lacks of ``total_timesteps``. One of another scenario or agent is refused
            here, before any work.
        hyperparameters: :class:`PPOSettings` by SB3's names.
    """

    autoreset_mode = AutoresetMode.SAME_STEP
    observation_types = ("grid", "flat")

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        device: str = "auto",
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 0,
        resume_from: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
    ):
        if int(checkpoint_every) < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
        self.env_id = env_id
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.settings = PPOSettings.from_config(hyperparameters)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_every = int(checkpoint_every)
        self.generator = torch.Generator(self.device).manual_seed(self.seed)
        self.network: ActorCritic | None = None
        self.optimizer: torch.optim.Adam | None = None
        self.timesteps = 0
        #: the timesteps the checkpoint of ``resume_from`` had trained (0 without one)
        self.resumed_timesteps = 0
        self._saved: dict[str, Any] | None = None
        if resume_from is not None:
            self._saved = self._read_checkpoint(Path(resume_from))
            self.resumed_timesteps = self.timesteps = int(self._saved["timesteps"])

    # ------------------------------------------------------------------------- building

    def _build(self, obs_size: int, num_actions: int) -> None:
        """Creates the network and optimiser (and loads the resumed checkpoint, if any)."""
        s = self.settings
        network = ActorCritic(
            obs_size, num_actions, s.net_arch, ACTIVATIONS[s.activation_fn],
            torch.Generator().manual_seed(self.seed),
        )  # fmt: skip
        self.network = network.to(self.device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=s.learning_rate, eps=1e-5)
        if self._saved is not None:
            saved = self._saved[_META_KEY]
            if (saved["obs_size"], saved["num_actions"]) != (obs_size, num_actions):
                raise ValueError(
                    f"the checkpoint's network reads {saved['obs_size']} observation values and "
                    f"chooses among {saved['num_actions']} actions; this env has {obs_size} and "
                    f"{num_actions} (another obs_type or level?)"
                )
            self.network.load_state_dict(self._saved["network"])
            if "optimizer" in self._saved:
                self.optimizer.load_state_dict(self._saved["optimizer"])
            self._saved = None

    def _observations(self, obs: np.ndarray) -> torch.Tensor:
        """A batch of observations as a flat float tensor on the agent's device."""
        if not isinstance(obs, np.ndarray):
            raise TypeError(
                f"ppo_fast reads array observations (obs_type grid or flat), got {type(obs)}"
            )
        tensor = torch.from_numpy(obs.reshape(len(obs), -1)).to(self.device, non_blocking=True)
        return tensor.float()

    # ------------------------------------------------------------------------- learning

    def learn(
        self, env: VectorEnv, total_timesteps: int, monitor: TrainingMonitor | None = None
    ) -> None:
        """Trains on ``env`` until the agent has seen ``total_timesteps`` environment steps.

        ``env`` is a Gymnasium vector env in ``SAME_STEP`` autoreset mode with a discrete
        action space; it is reset with the agent's seed. Training goes on in whole rollouts
        (``n_steps`` steps of every environment), so it can end up to one rollout past the
        budget, as SB3's does. A later call goes on with the same network for
        ``total_timesteps`` more steps; after ``resume_from``, the first call trains up to
        ``total_timesteps`` in all.
        """
        if env.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError(
                "ppo_fast learns on a vector env in AutoresetMode.SAME_STEP (it bootstraps "
                "truncated episodes from their final observation)"
            )
        if not isinstance(env.single_action_space, spaces.Discrete):
            raise ValueError(
                f"ppo_fast chooses discrete actions; {card_of(env).id} has "
                f"{env.single_action_space}"
            )
        if card_of(env).id != self.env_id:
            raise ValueError(f"this agent learns {self.env_id}, not {card_of(env).id}")
        target = int(total_timesteps) + (self.timesteps - self.resumed_timesteps)
        self.resumed_timesteps = 0
        if self.timesteps >= target:
            return
        env = recording(env)
        s, n = self.settings, env.num_envs
        obs_size = int(np.prod(env.single_observation_space.shape))
        if self.network is None:
            self._build(obs_size, int(env.single_action_space.n))
        rollout = Rollout(s.n_steps, n, obs_size, self.device)
        obs, infos = env.reset(seed=self.seed + self.timesteps)
        start = Start(self._observations(obs), infos, exploration_rng(self.seed + self.timesteps))
        next_checkpoint = self._next_checkpoint()
        while self.timesteps < target:
            start = self._collect(env, rollout, start, monitor)
            metrics = self._update(rollout)
            if monitor is not None:
                monitor.on_metrics(metrics)
            if next_checkpoint is not None and self.timesteps >= next_checkpoint:
                self.save(self.checkpoint_dir / f"{ALGO}_{self.timesteps}_steps")
                next_checkpoint = self._next_checkpoint()

    def _next_checkpoint(self) -> int | None:
        if self.checkpoint_dir is None or self.checkpoint_every == 0:
            return None
        return (self.timesteps // self.checkpoint_every + 1) * self.checkpoint_every

    @torch.no_grad()
    def _collect(
        self, env: VectorEnv, rollout: Rollout, start: Start, monitor: TrainingMonitor | None
    ) -> Start:
        """Fills ``rollout`` with ``n_steps`` steps of every environment from ``start``;
        returns where the next rollout starts."""
        gamma, n = self.settings.gamma, env.num_envs
        next_obs, infos, num_actions = start.obs, start.infos, env.single_action_space.n
        for t in range(rollout.n_steps):
            logits, values = self.network(next_obs)
            log_probs = torch.log_softmax(logits, -1)
            # a sample of each row's softmax by the Gumbel-max trick (faster than multinomial)
            noise = torch.rand(logits.shape, device=self.device, generator=self.generator)
            actions = (log_probs - (-noise.log()).log()).argmax(-1)
            rollout.obs[t] = next_obs
            rollout.actions[t] = actions
            rollout.log_probs[t] = log_probs.gather(1, actions[:, None])[:, 0]
            rollout.values[t] = values
            executed = modified_actions(actions.cpu().numpy(), infos, start.rng, num_actions)
            obs, rewards, terminated, truncated, infos = env.step(executed)
            rewards = torch.as_tensor(rewards, dtype=torch.float32).to(self.device)
            cut = np.flatnonzero(truncated & ~terminated)
            if len(cut):  # the step limit is not the task's end: bootstrap from the last obs
                final = np.stack(infos["final_obs"][cut])
                rewards[cut] += gamma * self.network.value(self._observations(final))
            rollout.rewards[t] = rewards
            rollout.dones[t] = torch.from_numpy(terminated | truncated).to(self.device)
            next_obs = self._observations(obs)
            self.timesteps += n
            report_step(monitor, self.timesteps, infos)
        rollout.last_values = self.network.value(next_obs)
        return Start(next_obs, infos, start.rng)

    def _update(self, rollout: Rollout) -> dict[str, float]:
        """``n_epochs`` passes of PPO's losses over the rollout; returns the last epoch's
        figures under SB3's names (``losses/<name>``)."""
        s = self.settings
        advantages, returns = rollout.advantages(s.gamma, s.gae_lambda)
        obs = rollout.obs.reshape(-1, rollout.obs.shape[-1])
        actions, old_log_probs = rollout.actions.reshape(-1), rollout.log_probs.reshape(-1)
        advantages, returns = advantages.reshape(-1), returns.reshape(-1)
        size = len(obs)
        n_batches = max(1, size // s.batch_size)
        figures: dict[str, list[torch.Tensor]] = {}
        for _ in range(s.n_epochs):
            order = torch.randperm(size, device=self.device, generator=self.generator)
            for batch in order.tensor_split(n_batches):
                logits, values = self.network(obs[batch])
                log_probs_all = torch.log_softmax(logits, -1)
                log_probs = log_probs_all.gather(1, actions[batch, None])[:, 0]
                entropy = -(log_probs_all.exp() * log_probs_all).sum(-1).mean()
                ratio = (log_probs - old_log_probs[batch]).exp()
                advantage = advantages[batch]
                if s.normalize_advantage and len(batch) > 1:
                    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
                policy_loss = -torch.min(
                    advantage * ratio, advantage * ratio.clamp(1 - s.clip_range, 1 + s.clip_range)
                ).mean()
                value_loss = (returns[batch] - values).pow(2).mean()
                loss = policy_loss - s.ent_coef * entropy + s.vf_coef * value_loss
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.network.parameters(), s.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = log_probs - old_log_probs[batch]
                    batch_figures = {
                        "policy_gradient_loss": policy_loss,
                        "value_loss": value_loss,
                        "entropy_loss": -entropy,
                        "approx_kl": ((ratio - 1) - log_ratio).mean(),
                        "clip_fraction": ((ratio - 1).abs() > s.clip_range).float().mean(),
                    }
                for name, value in batch_figures.items():
                    figures.setdefault(name, []).append(value.detach())
        explained = 1 - (returns - rollout.values.reshape(-1)).var() / returns.var().clamp_min(1e-8)
        metrics = {f"losses/{name}": torch.stack(v).mean().item() for name, v in figures.items()}
        metrics["losses/explained_variance"] = float(explained)
        return metrics

    # --------------------------------------------------------------------------- acting

    def build(self, env: VectorEnv) -> None:
        """Creates the network for ``env`` without training, if the agent has none yet: its
        initial weights come from the agent's seed alone, so an agent of the same seed and
        settings that has not learnt is the initial policy a trained one started from."""
        if self.network is None:
            self._build(
                int(np.prod(env.single_observation_space.shape)), int(env.single_action_space.n)
            )

    @torch.no_grad()
    def log_probabilities(self, observations: np.ndarray) -> np.ndarray:
        """The policy's log-probability of every action, ``(n, num_actions)``, for a batch of
        observations: the distribution :meth:`learn` samples from."""
        if self.network is None:
            raise RuntimeError("ppo_fast has no network yet: call learn(), build() or load()")
        logits = self.network.logits(self._observations(np.asarray(observations)))
        return torch.log_softmax(logits, -1).cpu().numpy()

    @torch.no_grad()
    def act(self, observations: np.ndarray) -> np.ndarray:
        """The policy's most likely action for each environment."""
        if self.network is None:
            if self._saved is None:
                raise RuntimeError("ppo_fast has no network yet: call learn() or load()")
            saved = self._saved[_META_KEY]
            self._build(saved["obs_size"], saved["num_actions"])
        logits = self.network.logits(self._observations(np.asarray(observations)))
        return logits.argmax(-1).cpu().numpy()

    # ----------------------------------------------------------------------- persistence

    def save(self, path: Path) -> Path:
        """Saves the weights, optimiser state, timesteps and settings as ``path`` with a
        ``.pt`` suffix, and returns that file."""
        if self.network is None:
            raise RuntimeError("ppo_fast has no network to save: call learn() first")
        path = Path(path).with_suffix(".pt")
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "algo": ALGO,
            "env_id": self.env_id,
            "obs_size": self.network.actor_body[0].in_features,
            "num_actions": self.network.actor_head.out_features,
            "settings": {**asdict(self.settings), "net_arch": list(self.settings.net_arch)},
        }
        state = {
            _META_KEY: meta,
            "timesteps": self.timesteps,
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        torch.save(state, path)
        return path

    def _read_checkpoint(self, path: Path) -> dict[str, Any]:
        """Reads a file saved by :meth:`save`, refusing one of another agent, scenario or
        network shape."""
        if not path.is_file():
            raise FileNotFoundError(f"no saved model at {path}")
        try:
            saved = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:  # noqa: BLE001 (torch raises many kinds for a bad file)
            raise ValueError(f"{path} is not a ppo_fast model file ({error})") from None
        meta = saved.get(_META_KEY) if isinstance(saved, dict) else None
        if not meta or meta.get("algo") != ALGO:
            raise ValueError(f"{path} is not a model saved by ppo_fast")
        if meta["env_id"] != self.env_id:
            raise ValueError(
                f"cannot resume from {path}: it is a ppo_fast model of {meta['env_id']}, and "
                f"this run trains on {self.env_id}"
            )
        saved_settings = meta["settings"]
        theirs = {name: saved_settings[name] for name in POLICY_KWARGS}
        mine = {name: getattr(self.settings, name) for name in POLICY_KWARGS}
        theirs["net_arch"] = tuple(theirs["net_arch"])
        if theirs != mine:
            raise ValueError(
                f"cannot resume from {path}: its network is {theirs}, this run's is {mine}"
            )
        return saved

    @classmethod
    def load(cls, path: str | Path, env_id: str, seed: int = 0, device: str = "auto"):
        """An agent that acts (and learns on) with the network saved at ``path``."""
        meta = torch.load(Path(path), map_location="cpu", weights_only=True)[_META_KEY]
        settings = dict(meta["settings"])
        policy = {name: settings.pop(name) for name in POLICY_KWARGS}
        hyperparameters = {**settings, "policy_kwargs": policy}
        return cls(env_id, seed, device, resume_from=str(path), hyperparameters=hyperparameters)


@dataclass(frozen=True)
class Start:
    """Where a rollout starts: the observations (a tensor on the agent's device), the latest
    infos (their modification applies to the next actions) and the generator that carries
    it out."""

    obs: torch.Tensor
    infos: dict[str, Any]
    rng: np.random.Generator


class Rollout:
    """One rollout's tensors, ``(n_steps, n_envs, ...)``, on the agent's device."""

    def __init__(self, n_steps: int, n_envs: int, obs_size: int, device: torch.device):
        self.n_steps = n_steps
        self.obs = torch.zeros((n_steps, n_envs, obs_size), device=device)
        self.actions = torch.zeros((n_steps, n_envs), dtype=torch.long, device=device)
        self.log_probs = torch.zeros((n_steps, n_envs), device=device)
        self.values = torch.zeros((n_steps, n_envs), device=device)
        self.rewards = torch.zeros((n_steps, n_envs), device=device)
        self.dones = torch.zeros((n_steps, n_envs), dtype=torch.bool, device=device)
        self.last_values = torch.zeros(n_envs, device=device)

    def advantages(self, gamma: float, gae_lambda: float) -> tuple[torch.Tensor, torch.Tensor]:
        """GAE advantages and value targets. ``dones[t]`` says that the step taken at ``t``
        ended its episode (same-step autoreset): nothing after it is bootstrapped."""
        advantages = torch.zeros_like(self.rewards)
        running = torch.zeros_like(self.last_values)
        next_values = self.last_values
        for t in reversed(range(self.n_steps)):
            going_on = (~self.dones[t]).float()
            delta = self.rewards[t] + gamma * next_values * going_on - self.values[t]
            running = delta + gamma * gae_lambda * going_on * running
            advantages[t] = running
            next_values = self.values[t]
        return advantages, advantages + self.values
