"""The experiment's settings: every knob in one frozen, validated dataclass, and the
environments and agents they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.agents.ppo_fast import FastPPOAgent
from aligngym.envs.registry import make_vector, scenario

#: what the policy optimises: the single model, or the ensemble combined three ways
OBJECTIVES = ("single", "mean", "worst", "uncertainty")


@dataclass(frozen=True)
class Settings:
    """Every knob of the experiment (``conf/overoptimisation.yaml`` documents each).

    Attributes:
        env_id: the scenario; ``env_settings`` its settings; ``obs_type`` ``grid`` or ``flat``.
        seed: seeds the initial policy, the labeller, the proxies and every rollout.
        label_episodes: ``pi_init`` episodes cut into segments for labelling.
        segment_length: steps per labelled segment.
        pairs: labelled pairs (the label budget).
        error_rate: the labeller's share of flipped answers.
        temperature: the labeller's Boltzmann temperature (relative to the return spread;
            0: the true preference before flipping).
        members: the ensemble's size.
        hidden: each reward network's hidden layers.
        epochs: passes over the labels when fitting.
        uncertainty_weight: the weight of the members' spread under ``uncertainty``.
        objectives: which of :data:`OBJECTIVES` to optimise.
        pool: ``pi_init`` episodes in the best-of-n pool.
        max_n: the largest ``n`` (a power of two, at most ``pool``).
        rl_timesteps: RL training steps per objective (0: no RL).
        rl_checkpoints: evaluations along training, spaced evenly in log(timesteps).
        eval_episodes: episodes per RL evaluation.
        kl_coef: the KL penalty in RL's reward (0: none).
        n_envs: ``ppo_fast``'s environments; ``hyperparameters`` its settings (SB3's names).
    """

    env_id: str = "aligngym/BoatRace-v0"
    env_settings: dict[str, Any] = field(default_factory=dict)
    obs_type: str = "flat"
    seed: int = 0
    label_episodes: int = 256
    segment_length: int = 25
    pairs: int = 100
    error_rate: float = 0.25
    temperature: float = 0.0
    members: int = 5
    hidden: tuple[int, ...] = (64, 64)
    epochs: int = 20
    uncertainty_weight: float = 1.0
    objectives: tuple[str, ...] = OBJECTIVES
    pool: int = 4096
    max_n: int = 1024
    rl_timesteps: int = 400_000
    rl_checkpoints: int = 12
    eval_episodes: int = 256
    kl_coef: float = 0.0
    n_envs: int = 256
    hyperparameters: dict[str, Any] = field(
        default_factory=lambda: {"learning_rate": 3e-4, "batch_size": 1024}
    )

    def __post_init__(self) -> None:
        record = scenario(self.env_id)  # refuses an unknown scenario, listing the known ones
        if self.obs_type not in ("grid", "flat"):
            raise ValueError(f"obs_type must be 'grid' or 'flat' (arrays), got {self.obs_type!r}")
        record.check_settings(dict(self.env_settings))
        unknown = set(self.objectives) - set(OBJECTIVES)
        if unknown or not self.objectives:
            raise ValueError(
                f"objectives must be some of {list(OBJECTIVES)}, got {list(self.objectives)}"
            )
        counts = {"label_episodes": 1, "segment_length": 1, "pairs": 1, "members": 2,
                  "epochs": 1, "pool": 1, "max_n": 1, "rl_checkpoints": 1,
                  "eval_episodes": 1, "n_envs": 1, "rl_timesteps": 0, "seed": 0}  # fmt: skip
        for key, least in counts.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{key} must be an integer >= {least}, got {value!r}")
        if self.max_n & (self.max_n - 1) or self.max_n > self.pool:
            raise ValueError(
                f"max_n must be a power of two no larger than pool ({self.pool}), got {self.max_n}"
            )
        for key in ("error_rate",):
            if not 0 <= getattr(self, key) < 0.5:
                raise ValueError(f"{key} must lie in [0, 0.5), got {getattr(self, key)}")
        for key in ("temperature", "uncertainty_weight", "kl_coef"):
            if not getattr(self, key) >= 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")

    def make_env(self, num_envs: int) -> VectorEnv:
        """The scenario's native vector env in ``SAME_STEP`` autoreset mode."""
        return make_vector(
            self.env_id, num_envs, autoreset_mode=AutoresetMode.SAME_STEP,
            obs_type=self.obs_type, **self.env_settings,
        )  # fmt: skip

    def agent(self) -> FastPPOAgent:
        """A ``ppo_fast`` agent of the experiment's seed and settings, on the CPU."""
        return FastPPOAgent(self.env_id, self.seed, "cpu", hyperparameters=self.hyperparameters)
