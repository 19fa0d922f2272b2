"""The curves: the gold of best-of-n and of RL on the proxy against
``d = sqrt(KL(pi || pi_init))``, and a curve's shape in figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from aligngym.agents.ppo_fast import FastPPOAgent
from aligngym.oversight.overoptimisation.episodes import Episodes, run_episodes
from aligngym.oversight.overoptimisation.estimators import best_of_n_estimate, best_of_n_kl
from aligngym.oversight.overoptimisation.fitting import Proxies
from aligngym.oversight.overoptimisation.proxy import ProxyReward
from aligngym.oversight.overoptimisation.settings import Settings


def best_of_n_curves(settings: Settings, pool: Episodes, proxies: Proxies) -> dict[str, list]:
    """Per objective, one point per ``n = 1, 2, 4, .., max_n``: ``n``, KL, ``d``, the expected
    gold, its gain over ``n = 1``, the expected proxy score and failure rate of the choice."""
    ns = [2**k for k in range(int(np.log2(settings.max_n)) + 1)]
    curves = {}
    for objective in settings.objectives:
        name = "single" if objective == "single" else "ensemble"
        proxy = proxies.for_objective(objective)
        score = proxy.combine(pool.member_returns[name], objective)
        base = best_of_n_estimate(score, pool.gold, 1)
        points = []
        for n in ns:
            kl = best_of_n_kl(n)
            gold = best_of_n_estimate(score, pool.gold, n)
            points.append({
                "n": n, "kl": kl, "d": float(np.sqrt(kl)), "gold": gold, "gain": gold - base,
                "proxy": best_of_n_estimate(score, score, n),
                "failure_rate": best_of_n_estimate(score, pool.failure.astype(float), n),
            })  # fmt: skip
        curves[objective] = points
    return curves


def rl_curve(
    settings: Settings,
    proxies: Proxies,
    objective: str,
    initial: FastPPOAgent,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, float]]:
    """Trains ``ppo_fast`` from ``pi_init`` on the frozen proxy of ``objective`` and evaluates
    it at ``rl_checkpoints`` points along training (and before it): the timesteps, the mean
    episode KL and ``d``, the mean gold and its gain over ``pi_init``, the proxy's mean score
    and the failure rate."""
    proxy = proxies.for_objective(objective)
    name = "single" if objective == "single" else "ensemble"
    agent = settings.agent()
    env = settings.make_env(settings.n_envs)
    agent.build(env)
    oversight = ProxyReward(proxy, objective, settings.kl_coef, agent, initial)
    env = oversight.wrap(env, learning=False)
    points: list[dict[str, float]] = []
    started = time.perf_counter()
    for k, target in enumerate([0, *checkpoint_timesteps(settings)]):
        if target > agent.timesteps:
            agent.learn(env, target - agent.timesteps)
        episodes = run_episodes(settings, agent, settings.eval_episodes,
                                settings.seed + 10_000 + k, {name: proxy}, initial)  # fmt: skip
        score = proxy.combine(episodes.member_returns[name], objective)
        kl = float(max(episodes.kl.mean(), 0.0))
        points.append({
            "timesteps": agent.timesteps, "kl": kl, "d": float(np.sqrt(kl)),
            "gold": float(episodes.gold.mean()), "gold_se": _se(episodes.gold),
            "proxy": float(score.mean()), "failure_rate": float(episodes.failure.mean()),
        })  # fmt: skip
        if progress is not None:
            p = points[-1]
            progress(f"rl {objective}: {p['timesteps']:>8} steps  d {p['d']:.2f}  gold "
                     f"{p['gold']:.2f}  proxy {p['proxy']:.2f}  failure {p['failure_rate']:.2f}"
                     f"  ({time.perf_counter() - started:.0f} s)")  # fmt: skip
    env.close()
    for p in points:
        p["gain"] = p["gold"] - points[0]["gold"]
    return points


def checkpoint_timesteps(settings: Settings) -> list[int]:
    """When RL is evaluated: ``rl_checkpoints`` timesteps spaced evenly in log from one
    rollout (``n_envs * n_steps``) to ``rl_timesteps``. The KL grows fastest early, and an
    even spacing in steps would leave the rise and the peak between two evaluations."""
    rollout = settings.n_envs * int(settings.hyperparameters.get("n_steps", 8))
    last = max(settings.rl_timesteps, rollout)
    spaced = np.geomspace(rollout, last, settings.rl_checkpoints)
    return sorted({int(np.ceil(t / rollout)) * rollout for t in spaced})


def _se(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def shape_of(points: Sequence[dict[str, float]]) -> dict[str, float]:
    """The curve's shape in figures: its gold at the start, peak and end, the ``d`` of the
    peak, the rise (peak - start) and the fall (peak - end)."""
    gold = np.array([p["gold"] for p in points])
    peak = int(gold.argmax())
    return {"start": float(gold[0]), "peak": float(gold[peak]), "end": float(gold[-1]),
            "peak_d": float(points[peak]["d"]), "rise": float(gold[peak] - gold[0]),
            "fall": float(gold[peak] - gold[-1])}  # fmt: skip
