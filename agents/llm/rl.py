"""``agent=llm_rl``: a language-model policy fine-tuned by policy-gradient RL, with LoRA.

The policy is the one ``agent=llm`` scores with (GLAM, Carta et al. 2023): the softmax, over the
legal actions, of each action name's log-likelihood as the model's reply. Training samples from
it; evaluation takes its most likely action, as ``agent=llm`` does.

The update is GRPO-style PPO (Shao et al. 2024): no critic; each decision's advantage is its
discounted return to the end of its episode within the rollout, normalised over the rollout's
decisions (the group); the clipped surrogate of PPO over ``n_epochs`` passes of minibatches;
and a penalty ``kl_coef`` times the exact KL divergence, over the legal actions, from the
policy to the reference policy (the model with its adapters turned off). Only LoRA adapters
(peft) are trained.

TRL's trainers fine-tune on generated completions of a prompt dataset; here the policy's
action is a choice among legal actions scored in one pass, inside a multi-step environment, so
the rollout and the loss are written here (about a hundred lines) and peft supplies the
adapters. On a GPU (``device=cuda``) the model runs in bfloat16 with float32 adapters.

Checkpoints are single ``.pt`` files: the adapter weights, the optimiser's state, the timesteps
and the settings they were trained with; ``resume_from`` continues from one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.agents.base import TrainingMonitor, recording, report_step
from aligngym.agents.llm.agent import LLMAgent
from aligngym.agents.llm.language_model import LLM_EXTRA
from aligngym.envs.core.text import TextObservation, parse_text

ALGO = "llm_rl"


@dataclass(frozen=True)
class FineTuning:
    """The RL and LoRA settings of ``agent=llm_rl`` (``agent.model.fine_tuning``).

    Attributes:
        n_steps: decisions collected from every environment per update.
        batch_size: decisions per gradient step.
        n_epochs: passes over each rollout.
        learning_rate: AdamW's step size for the adapters.
        gamma: the discount of the returns to go.
        clip_range: PPO's clipping range of the probability ratio.
        kl_coef: the weight of the KL penalty to the reference policy.
        ent_coef: the weight of an entropy bonus.
        max_grad_norm: gradients are clipped to this global norm.
        lora_r: the adapters' rank.
        lora_alpha: their scale numerator (the scale is ``lora_alpha / lora_r``).
        lora_dropout: dropout on the adapters' input.
        target_modules: the linear layers that get adapters.
    """

    n_steps: int = 4
    batch_size: int = 16
    n_epochs: int = 2
    learning_rate: float = 1e-4
    gamma: float = 1.0
    clip_range: float = 0.2
    kl_coef: float = 0.05
    ent_coef: float = 0.0
    max_grad_norm: float = 1.0
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: Sequence[str] = field(default=("q_proj", "v_proj"))

    def __post_init__(self) -> None:
        for name in ("n_steps", "batch_size", "n_epochs", "lora_r", "lora_alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"fine_tuning.{name} must be a positive integer, got {value!r}")
        for name in ("learning_rate", "clip_range", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"fine_tuning.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("kl_coef", "ent_coef", "lora_dropout"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"fine_tuning.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"fine_tuning.gamma must be in (0, 1], got {self.gamma!r}")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))


@dataclass
class Rollout:
    """The decisions of one rollout, in step order, each environment's in a column."""

    observations: list[list[TextObservation]] = field(default_factory=list)
    choices: list[np.ndarray] = field(default_factory=list)  # index into the legal actions
    log_probs: list[np.ndarray] = field(default_factory=list)
    reference: list[list[np.ndarray]] = field(default_factory=list)  # reference log-policies
    rewards: list[np.ndarray] = field(default_factory=list)
    dones: list[np.ndarray] = field(default_factory=list)

    def advantages(self, gamma: float) -> np.ndarray:
        """Returns to go within each episode of the rollout, normalised over all decisions."""
        returns = np.zeros((len(self.rewards), len(self.rewards[0])))
        running = np.zeros(len(self.rewards[0]))
        for t in reversed(range(len(self.rewards))):
            running = self.rewards[t] + gamma * running * (1.0 - self.dones[t])
            returns[t] = running
        flat = returns.reshape(-1)
        return (flat - flat.mean()) / (flat.std() + 1e-8)


class LLMRLAgent(LLMAgent):
    """``agent=llm``'s policy, fine-tuned on the (possibly overseen) reward with LoRA.

    Args:
        env_id, seed: passed by the runner.
        fine_tuning: the :class:`FineTuning` settings, as a mapping.
        checkpoint_dir: folder for periodic checkpoints (``None``: none).
        checkpoint_every: checkpoint period in environment steps (0: none).
        resume_from: a checkpoint (``.pt``) to continue training from.
        **llm: every argument of :class:`~aligngym.agents.llm.agent.LLMAgent`; the mode must
            be ``score`` and the backend ``transformers`` (the model is trained in this
            process).
    """

    autoreset_mode = AutoresetMode.SAME_STEP

    def __init__(
        self,
        env_id: str,
        seed: int | None = None,
        fine_tuning: dict[str, Any] | None = None,
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 0,
        resume_from: str | None = None,
        **llm: Any,
    ):
        if llm.get("mode", "score") != "score":
            raise ValueError("agent=llm_rl fine-tunes the score-mode policy: mode must be score")
        if llm.get("backend", "transformers") != "transformers":
            raise ValueError(
                "agent=llm_rl trains the model in this process: agent.model.backend must be "
                "transformers (a served model cannot be fine-tuned through its API)"
            )
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as error:
            raise ImportError(f"agent=llm_rl needs peft: {LLM_EXTRA}") from error
        super().__init__(env_id, seed, **llm)
        self.settings = FineTuning(**dict(fine_tuning or {}))
        if int(checkpoint_every) < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_every = int(checkpoint_every)
        s = self.settings
        lora = LoraConfig(
            r=s.lora_r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout,
            target_modules=list(s.target_modules), task_type="CAUSAL_LM",
        )  # fmt: skip
        self.lm.model = get_peft_model(self.lm.model, lora)
        self.trainable = [p for p in self.lm.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.trainable, lr=s.learning_rate)
        self.generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
        self.seed = 0 if seed is None else int(seed)
        self.timesteps = 0
        #: the timesteps the checkpoint of ``resume_from`` had trained (0 without one)
        self.resumed_timesteps = 0
        if resume_from is not None:
            self.resumed_timesteps = self.timesteps = self._load(Path(resume_from))

    # ---- learning ----------------------------------------------------------------------

    def learn(self, env: VectorEnv, total_timesteps: int, monitor: TrainingMonitor | None) -> None:
        """Trains for ``total_timesteps`` environment steps (all environments counted); after
        ``resume_from``, up to the run's total."""
        target = int(total_timesteps) + (self.timesteps - self.resumed_timesteps)
        self.resumed_timesteps = 0
        if self.timesteps >= target:
            return
        env = recording(env)
        observations, _ = env.reset(seed=self.seed + self.timesteps)
        next_checkpoint = self._next_checkpoint()
        while self.timesteps < target:
            rollout, observations = self._collect(env, observations, monitor)
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

    def _policy(self, parsed: list[TextObservation], grad: bool) -> list[torch.Tensor]:
        """Each observation's log-policy over its legal actions."""
        chats = [self._chat(obs) for obs in parsed]
        names = [list(obs.actions.values()) for obs in parsed]
        with torch.set_grad_enabled(grad):
            scores = self.lm.score_tensors(chats, names)
        return [torch.log_softmax(s.float(), dim=-1) for s in scores]

    def _collect(
        self, env: VectorEnv, observations: Any, monitor: TrainingMonitor | None
    ) -> tuple[Rollout, Any]:
        """``n_steps`` sampled decisions of every environment."""
        rollout = Rollout()
        self.lm.model.eval()
        for _ in range(self.settings.n_steps):
            parsed = [parse_text(text) for text in observations]
            policy = self._policy(parsed, grad=False)
            with self.lm.model.disable_adapter():
                reference = self._policy(parsed, grad=False)
            choices = np.array(
                [int(torch.multinomial(p.exp().cpu(), 1, generator=self.generator)) for p in policy]
            )
            actions = np.array([list(obs.actions)[c] for obs, c in zip(parsed, choices)])
            observations, rewards, terminated, truncated, infos = env.step(actions)
            rollout.observations.append(parsed)
            rollout.choices.append(choices)
            rollout.log_probs.append(np.array([float(p[c]) for p, c in zip(policy, choices)]))
            rollout.reference.append([r.cpu().numpy() for r in reference])
            rollout.rewards.append(np.asarray(rewards, dtype=np.float64))
            rollout.dones.append(np.asarray(terminated | truncated, dtype=np.float64))
            self.timesteps += env.num_envs
            report_step(monitor, self.timesteps, infos)
        return rollout, observations

    def _update(self, rollout: Rollout) -> dict[str, float]:
        """``n_epochs`` passes of the clipped surrogate with the KL penalty; returns the
        figures as ``losses/<name>``."""
        s = self.settings
        observations = [obs for step in rollout.observations for obs in step]
        choices = np.concatenate(rollout.choices)
        device = self.lm.device
        old = torch.tensor(np.concatenate(rollout.log_probs), device=device)
        reference = [r for step in rollout.reference for r in step]
        advantages = torch.tensor(rollout.advantages(s.gamma), dtype=torch.float32, device=device)
        self.lm.model.train()
        figures: dict[str, list[float]] = {}
        for _ in range(s.n_epochs):
            order = torch.randperm(len(observations), generator=self.generator)
            for batch in order.split(s.batch_size):
                index = batch.tolist()
                policy = self._policy([observations[i] for i in index], grad=True)
                chosen = torch.stack([p[choices[i]] for p, i in zip(policy, index)])
                ratio = (chosen - old[batch]).exp()
                advantage = advantages[batch]
                surrogate = torch.min(
                    advantage * ratio, advantage * ratio.clamp(1 - s.clip_range, 1 + s.clip_range)
                )
                kl = torch.stack([
                    (p.exp() * (p - torch.as_tensor(reference[i], device=p.device))).sum()
                    for p, i in zip(policy, index)
                ])  # fmt: skip
                entropy = torch.stack([-(p.exp() * p).sum() for p in policy])
                loss = -surrogate.mean() + s.kl_coef * kl.mean() - s.ent_coef * entropy.mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.trainable, s.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = chosen - old[batch]
                    step = {
                        "policy_gradient_loss": -surrogate.mean(),
                        "kl_to_reference": kl.mean(),
                        "entropy_loss": -entropy.mean(),
                        "approx_kl": ((ratio - 1) - log_ratio).mean(),
                        "clip_fraction": ((ratio - 1).abs() > s.clip_range).float().mean(),
                    }
                for name, value in step.items():
                    figures.setdefault(name, []).append(float(value))
        self.lm.model.eval()
        return {f"losses/{name}": float(np.mean(v)) for name, v in figures.items()}

    # ---- saving --------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Saves the adapters, the optimiser and the timesteps as ``path`` + ``.pt``."""
        from peft import get_peft_model_state_dict

        path = Path(path).with_suffix(".pt")
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "algo": ALGO,
            "env_id": self.env_id,
            "model": self.model_name,
            "settings": asdict(self.settings),
            "timesteps": self.timesteps,
            "adapter": get_peft_model_state_dict(self.lm.model),
            "optimizer": self.optimizer.state_dict(),
        }
        torch.save(state, path)
        self.transcript.close()
        return path

    def _load(self, path: Path) -> int:
        """Loads a checkpoint of the same model and adapter shape; returns its timesteps."""
        from peft import set_peft_model_state_dict

        if not path.is_file():
            raise FileNotFoundError(f"agent.model.resume_from: no checkpoint at {path}")
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("algo") != ALGO or state.get("model") != self.model_name:
            raise ValueError(
                f"cannot resume from {path}: it is a {state.get('algo')} checkpoint of model "
                f"{state.get('model')!r}, this run fine-tunes {self.model_name!r}"
            )
        mine = {k: v for k, v in asdict(self.settings).items() if k.startswith(("lora", "target"))}
        theirs = {k: v for k, v in state["settings"].items() if k in mine}
        if theirs != mine:
            raise ValueError(f"cannot resume from {path}: its adapters are {theirs}, not {mine}")
        set_peft_model_state_dict(self.lm.model, state["adapter"])
        self.optimizer.load_state_dict(state["optimizer"])
        return int(state["timesteps"])
