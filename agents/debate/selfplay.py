"""Debaters trained by self-play: one policy network plays every debater seat and learns from
the judge's verdicts (Arnesen et al. 2024 train debaters this way, and consultants alike).

The policy reads its seat's observation (a flat vector: in the pixel debate the image, what is
revealed, its claim and the truth) and scores every move; illegal moves (``info
["action_mask"]``) are masked out. Training plays games of the run's protocol on the train
setting with moves sampled from the policy: under ``debate`` the same network argues both
sides against itself, under ``consultancy`` it is the consultant on either side. After each
game every seat is paid its side's outcome: the judge's final leaning towards its claim
(``reward="margin"``: :meth:`~aligngym.envs.core.debate.DebateEnv.honest_margin`, signed by
side) or the verdict (``reward="verdict"``: +1 won, -1 lost). Updates are REINFORCE with a
baseline per side (the batch's mean return of honest and of dishonest seats) and an entropy
bonus, every ``batch_games`` games. Evaluation plays the most likely move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from aligngym.agents.base import TrainingMonitor
from aligngym.agents.debate.base import Debater, play_game, side
from aligngym.agents.devices import resolve_device
from aligngym.envs.core.debate import JUDGE, DebateEnv
from aligngym.envs.registry import make
from aligngym.oversight.debate.judges import Judge

REWARDS = ("margin", "verdict")


class SelfPlayDebater(Debater):
    """See the module docstring.

    Args:
        env_id: the scenario: one whose debaters' observations and moves are flat vectors and
            indices (the pixel debate).
        seed: seeds the network and the sampled moves.
        hidden: the policy MLP's hidden widths.
        learning_rate: Adam's step size.
        batch_games: games per update.
        entropy_coef: weight of the policy's entropy bonus.
        reward: ``"margin"`` or ``"verdict"`` (see the module docstring).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        resume_from: a file saved by :meth:`save` (an interrupted run's checkpoint): its
            policy, and the games it had trained (:attr:`resumed_timesteps`), to go on from.
    """

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        hidden: Sequence[int] = (256, 256),
        learning_rate: float = 3e-4,
        batch_games: int = 64,
        entropy_coef: float = 0.01,
        reward: str = "margin",
        device: str = "cpu",
        resume_from: str | None = None,
    ):
        super().__init__(env_id, seed)
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {list(REWARDS)}, got {reward!r}")
        if int(batch_games) < 1:
            raise ValueError(f"batch_games must be >= 1, got {batch_games!r}")
        probe = make(env_id)
        debater = next(agent for agent in probe.possible_agents if agent != JUDGE)
        obs_space, move_space = probe.observation_space(debater), probe.action_space(debater)
        if len(obs_space.shape or ()) != 1 or not hasattr(move_space, "n"):
            raise ValueError(
                f"the self-play debater reads flat observations and picks indexed moves; "
                f"{env_id} has {obs_space} and {move_space}"
            )
        self.hidden = tuple(int(h) for h in hidden)
        self.learning_rate, self.batch_games = float(learning_rate), int(batch_games)
        self.entropy_coef, self.reward = float(entropy_coef), reward
        self.device = resolve_device(device)
        torch.manual_seed(self.seed)
        layers: list[nn.Module] = []
        width = obs_space.shape[0]
        for size in self.hidden:
            layers += [nn.Linear(width, size), nn.Tanh()]
            width = size
        layers.append(nn.Linear(width, int(move_space.n)))
        self.policy = nn.Sequential(*layers).to(self.device)
        self.optimiser = torch.optim.Adam(self.policy.parameters(), lr=self.learning_rate)
        self.games_trained = 0
        if resume_from is not None:
            saved = torch.load(resume_from, map_location=self.device, weights_only=False)
            if saved["settings"]["env_id"] != env_id:
                raise ValueError(f"resume_from: {resume_from} was trained on another scenario")
            self.policy.load_state_dict(saved["policy"])
            self.games_trained = int(saved["settings"]["games_trained"])
        #: the games the policy of ``resume_from`` had trained (0 without one)
        self.resumed_timesteps = self.games_trained
        self._generator = torch.Generator(device="cpu").manual_seed(self.seed)
        self._sampling = False
        self._trace: list[tuple[str, torch.Tensor, torch.Tensor]] = []

    def _distribution(self, env: DebateEnv, agent: str) -> torch.distributions.Categorical:
        observation = torch.as_tensor(env.observe(agent), device=self.device)
        mask = torch.as_tensor(env.infos[agent]["action_mask"], device=self.device).bool()
        logits = self.policy(observation).masked_fill(~mask, -torch.inf)
        return torch.distributions.Categorical(logits=logits)

    def act(self, env: DebateEnv, agent: str, judge: Judge) -> Any:
        if not self._sampling:
            with torch.no_grad():
                return int(self._distribution(env, agent).probs.argmax())
        distribution = self._distribution(env, agent)
        move = torch.multinomial(distribution.probs.detach().cpu(), 1, generator=self._generator)
        move = move.to(self.device).squeeze()
        self._trace.append((agent, distribution.log_prob(move), distribution.entropy()))
        return int(move)

    def learn(
        self,
        make_env: Callable[[], DebateEnv],
        judge: Judge,
        total_games: int,
        monitor: TrainingMonitor | None,
    ) -> None:
        """Plays ``total_games`` self-play games on ``make_env()``, updating every
        :attr:`batch_games`; reports each batch's games and its losses to ``monitor``."""
        env = make_env()
        rng = np.random.default_rng(self.seed)
        self._sampling = True
        try:
            while self.games_trained < total_games:
                size = min(self.batch_games, total_games - self.games_trained)
                records, terms = [], []
                for _ in range(size):
                    record, _ = play_game(env, self, judge, seed=int(rng.integers(2**31)))
                    records.append(record)
                    terms.append(self._game_terms(env, judge))
                    self._trace = []
                losses = self._update(terms)
                self.games_trained += size
                if monitor is not None:
                    monitor.on_metrics(losses)
                    monitor.on_step(self.games_trained, records)
        finally:
            self._sampling = False
            self._trace = []
            env.close()

    def _game_terms(self, env: DebateEnv, judge: Judge) -> list[tuple[float, bool, Any, Any]]:
        """Each move of the game just played: its seat's return, whether the seat is honest,
        its log-probability and entropy."""
        if self.reward == "margin":
            margin = float(env.honest_margin(judge.beliefs([env.observe(JUDGE)]))[0])
        else:
            margin = 1.0 if env.record.verdict == env.case.truth else -1.0
        return [(side(env, a) * margin, env.is_honest(a), lp, h) for a, lp, h in self._trace]

    def _update(self, games: list[list[tuple[float, bool, Any, Any]]]) -> dict[str, float]:
        moves = [move for game in games for move in game]
        if not moves:
            return {}
        returns = torch.tensor([m[0] for m in moves], device=self.device)
        honest = torch.tensor([m[1] for m in moves], device=self.device)
        baseline = torch.zeros_like(returns)
        for group in (honest, ~honest):
            if group.any():
                baseline[group] = returns[group].mean()
        log_probs = torch.stack([m[2] for m in moves])
        entropy = torch.stack([m[3] for m in moves]).mean()
        policy_loss = -((returns - baseline) * log_probs).mean()
        loss = policy_loss - self.entropy_coef * entropy
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()
        return {
            "losses/policy_loss": float(policy_loss.detach()),
            "losses/entropy": float(entropy.detach()),
            "charts/honest_return": float(returns[honest].mean()) if honest.any() else 0.0,
        }

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(), "hidden": list(self.hidden), "learning_rate": self.learning_rate,
            "batch_games": self.batch_games, "entropy_coef": self.entropy_coef,
            "reward": self.reward, "games_trained": self.games_trained,
        }  # fmt: skip

    def save(self, path: Path) -> Path:
        """Writes the policy's weights and the settings to ``path`` with suffix ``.pt``."""
        path = Path(path).with_suffix(".pt")
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"settings": self.settings(), "policy": self.policy.state_dict()}, path)
        return path
