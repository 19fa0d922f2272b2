"""The over-optimisation experiment: a proxy reward learned from few noisy labels, optimised
harder and harder, with the gold reward (the scenario's hidden performance) measured against
``d = sqrt(KL(pi || pi_init))`` (Gao, Schulman & Hilton 2022; Coste et al. 2024).

1. **The initial policy.** ``pi_init`` is :class:`~aligngym.agents.ppo_fast.FastPPOAgent`'s
   untrained network for the experiment's seed (its action logits start at gain 0.01, so it
   is close to uniform); RL starts from exactly this network.
2. **The proxy.** Episodes of ``pi_init`` are cut into segments; pairs of segments are labelled
   by :class:`~aligngym.oversight.preferences.labellers.NoisyLabeller` (the true preference,
   by the hidden performance, flipped with probability ``error_rate``: Coste et al.'s 25 %);
   a single Bradley-Terry model and an ensemble (each member on its own bootstrap resample)
   are fitted to them. Each member's per-step reward is standardised over ``pi_init``'s steps
   (Bradley-Terry fixes a reward only up to an offset and, with few labels, a scale; members
   must share them before their minimum or spread means anything).
3. **Objectives** (:data:`~.settings.OBJECTIVES`): ``single`` (the single model), and the
   ensemble's ``mean``, ``worst`` (WCO: the members' minimum) and ``uncertainty`` (UWO: mean
   minus ``uncertainty_weight`` times the members' standard deviation). Best-of-n combines the
   members' episode returns, as Coste et al. combine per sample; RL needs a reward per step,
   so it combines the members' per-step rewards (for ``worst`` a sum of minima, at most the
   minimum of the sums: no less conservative).
4. **Best-of-n** (:func:`~.curves.best_of_n_curves`): from a pool of ``pi_init``'s episodes,
   the expected gold of the proxy's choice among ``n = 1, 2, 4, ..`` episodes, estimated
   without bias (:func:`~.estimators.best_of_n_estimate`), at ``KL = log n - (n - 1) / n``.
5. **RL** (:func:`~.curves.rl_curve`): ``ppo_fast`` trains on the frozen proxy
   (:class:`~.proxy.ProxyReward`, an :class:`~aligngym.oversight.base.Oversight` whose signal
   is the proxy, optionally minus ``kl_coef`` times ``log pi(a|s) - log pi_init(a|s)``),
   evaluated at checkpoints. An episode's KL is summed exactly over its steps from both
   policies' action distributions: ``sum_t KL(pi(.|s_t) || pi_init(.|s_t))``, whose mean over
   episodes of ``pi`` is exactly the KL between the two policies' trajectory distributions
   (the dynamics cancel).
6. **Fits** (:mod:`.estimators`): Gao et al.'s forms, by least squares, to gold gained over
   ``pi_init``.

This module runs the whole (:func:`run`); the parts live beside it: :mod:`.settings` (the
knobs), :mod:`.proxy` (the proxy, its objectives and the RL reward), :mod:`.episodes`
(rollouts and segments), :mod:`.fitting` (labels and the fitted proxies) and :mod:`.curves`
(best-of-n and RL).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from aligngym.oversight.overoptimisation.curves import best_of_n_curves, rl_curve, shape_of
from aligngym.oversight.overoptimisation.episodes import Episodes, run_episodes
from aligngym.oversight.overoptimisation.estimators import fit_best_of_n, fit_rl
from aligngym.oversight.overoptimisation.fitting import Proxies, fit_proxies
from aligngym.oversight.overoptimisation.settings import Settings


def run(settings: Settings, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The whole experiment; returns every point, the fits and the proxies' figures."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    initial = settings.agent()
    probe = settings.make_env(1)
    initial.build(probe)
    probe.close()
    labelled = run_episodes(settings, initial, settings.label_episodes, settings.seed,
                            keep_steps=True)  # fmt: skip
    proxies = fit_proxies(settings, labelled)
    say(
        f"proxies fitted: labels agree with the truth {proxies.labels_agreement:.2f}, held-out "
        f"agreement {proxies.held_out_agreement} ({time.perf_counter() - started:.0f} s)"
    )
    pool = run_episodes(settings, initial, settings.pool, settings.seed + 1,
                        {"single": proxies.single, "ensemble": proxies.ensemble})  # fmt: skip
    best_of_n = best_of_n_curves(settings, pool, proxies)
    say(f"best-of-n done ({time.perf_counter() - started:.0f} s)")
    rl = {}
    if settings.rl_timesteps > 0:
        for objective in settings.objectives:
            rl[objective] = rl_curve(settings, proxies, objective, initial, say)
    fits: dict[str, dict[str, Any]] = {"best_of_n": {}, "rl": {}}
    for objective, points in best_of_n.items():
        fits["best_of_n"][objective] = _fit(fit_best_of_n, points)
    for objective, points in rl.items():
        fits["rl"][objective] = _fit(fit_rl, points)
    return {
        "settings": {
            **asdict(settings),
            "hidden": list(settings.hidden),
            "objectives": list(settings.objectives),
        },  # fmt: skip
        "initial_policy": {
            "gold_mean": float(pool.gold.mean()),
            "gold_std": float(pool.gold.std()),
            "failure_rate": float(pool.failure.mean()),
        },  # fmt: skip
        "proxies": {
            "labels_agreement": proxies.labels_agreement,
            "held_out_agreement": proxies.held_out_agreement,
            "pool_correlation": _correlations(settings, pool, proxies),
        },  # fmt: skip
        "best_of_n": best_of_n,
        "rl": rl,
        "fits": fits,
        "shapes": {
            method: {objective: shape_of(points) for objective, points in curves.items()}
            for method, curves in (("best_of_n", best_of_n), ("rl", rl))
        },  # fmt: skip
        "seconds": time.perf_counter() - started,
    }


def _fit(fit: Callable, points: Sequence[dict[str, float]]) -> dict[str, Any]:
    d = np.array([p["d"] for p in points])
    gain = np.array([p["gain"] for p in points])
    try:
        return fit(d, gain).as_dict()
    except ValueError as error:  # e.g. a policy that never moved from pi_init
        return {"error": str(error)}


def _correlations(settings: Settings, pool: Episodes, proxies: Proxies) -> dict[str, float]:
    """Per objective, the correlation of the proxy's episode score with gold over the pool."""
    figures = {}
    for objective in settings.objectives:
        name = "single" if objective == "single" else "ensemble"
        score = proxies.for_objective(objective).combine(pool.member_returns[name], objective)
        ok = score.std() > 0 and pool.gold.std() > 0
        figures[objective] = float(np.corrcoef(score, pool.gold)[0, 1]) if ok else float("nan")
    return figures
