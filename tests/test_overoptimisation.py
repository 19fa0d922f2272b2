"""Reward over-optimisation (Gao et al. 2022; Coste et al. 2024): the estimators, the fits,
bad input, and a small run of the experiment that shows the effect."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from aligngym.oversight.overoptimisation.episodes import run_episodes
from aligngym.oversight.overoptimisation.estimators import (
    best_of_n_estimate,
    best_of_n_kl,
    best_of_n_weights,
    fit_best_of_n,
    fit_rl,
)
from aligngym.oversight.overoptimisation.experiment import run
from aligngym.oversight.overoptimisation.settings import Settings

# ------------------------------------------------------------------------- best-of-n's KL


def test_best_of_n_kl_is_gao_et_al_formula():
    assert best_of_n_kl(1) == 0.0
    assert best_of_n_kl(2) == pytest.approx(np.log(2) - 0.5)
    ns = np.array([1, 2, 4, 1024])
    np.testing.assert_allclose(best_of_n_kl(ns), np.log(ns) - (ns - 1) / ns)
    assert np.all(np.diff(best_of_n_kl(np.arange(1, 100))) > 0)


def test_best_of_n_kl_bounds_the_exact_kl_of_the_best_of_n_distribution():
    """For a policy over M equally likely distinct outcomes ranked by a proxy, best-of-n puts
    P(rank i) = (i^n - (i-1)^n) / M^n; its KL from uniform approaches the formula from below."""
    m, n = 100_000, 8
    i = np.arange(1, m + 1, dtype=float)
    p = ((i / m) ** n) - (((i - 1) / m) ** n)
    exact = float(np.sum(p[p > 0] * np.log(p[p > 0] * m)))
    assert exact <= best_of_n_kl(n) + 1e-9
    assert exact == pytest.approx(best_of_n_kl(n), rel=1e-3)


# ------------------------------------------------------------------ the unbiased estimator


@pytest.mark.parametrize("ties", [False, True])
def test_estimator_is_the_mean_over_every_subset(ties):
    rng = np.random.default_rng(0)
    proxy = rng.normal(size=9)
    if ties:
        proxy = np.round(proxy)  # several episodes share a score: the choice is shared too
    gold = rng.normal(size=9)
    for n in range(1, 10):
        values = []
        for subset in itertools.combinations(range(9), n):
            subset = np.array(subset)
            best = proxy[subset] == proxy[subset].max()
            values.append(gold[subset][best].mean())
        assert best_of_n_estimate(proxy, gold, n) == pytest.approx(np.mean(values))


def test_estimator_is_unbiased_for_best_of_n_of_fresh_samples():
    """Averaged over many pools, the pool estimate equals the brute-force best-of-n of
    independent samples (within a few standard errors of both)."""
    rng = np.random.default_rng(1)

    def sample(size):  # gold and a noisy proxy of it, with a heavy-tailed error
        gold = rng.normal(size=size)
        return gold + rng.standard_t(2, size=size), gold

    n, pool, pools, trials = 16, 64, 3000, 40_000
    estimates = [best_of_n_estimate(*sample(pool), n) for _ in range(pools)]
    proxy, gold = sample((trials, n))
    brute = gold[np.arange(trials), proxy.argmax(axis=1)]
    se = np.hypot(np.std(estimates) / np.sqrt(pools), brute.std() / np.sqrt(trials))
    assert abs(np.mean(estimates) - brute.mean()) < 4 * se
    # and the estimator is not the plain pool maximum, which is biased upwards
    assert np.mean(estimates) < np.mean([sample(pool)[1].max() for _ in range(300)])


def test_weights_are_a_distribution_over_ranks():
    for pool, n in ((10, 1), (10, 10), (4096, 1024)):
        weights = best_of_n_weights(pool, n)
        assert weights.sum() == pytest.approx(1.0)
        assert np.all(weights[: n - 1] == 0) and np.all(np.diff(weights[n - 1 :]) >= 0)
    np.testing.assert_allclose(best_of_n_weights(5, 1), 0.2)


# -------------------------------------------------------------------------------- the fits


@pytest.mark.parametrize("form", ["best_of_n", "rl"])
def test_fits_recover_known_alpha_and_beta(form):
    rng = np.random.default_rng(2)
    alpha, beta = 1.7, 0.45
    d = np.linspace(0.05, 8, 60)
    second = d if form == "best_of_n" else np.log(d)
    gain = d * (alpha - beta * second) + rng.normal(0, 0.05, size=d.shape)
    fit = (fit_best_of_n if form == "best_of_n" else fit_rl)(np.r_[0.0, d], np.r_[0.0, gain])
    assert fit.alpha == pytest.approx(alpha, abs=0.05)
    assert fit.beta == pytest.approx(beta, abs=0.03)
    assert fit.r2 > 0.99
    peak_d = alpha / (2 * beta) if form == "best_of_n" else np.exp(alpha / beta - 1)
    assert fit.peak_d == pytest.approx(peak_d, rel=0.1)
    assert fit(np.array([fit.peak_d]))[0] == pytest.approx(fit.peak_gain)


def test_a_curve_that_only_rises_has_no_peak():
    d = np.linspace(0.1, 3, 20)
    fit = fit_best_of_n(d, 2 * d + 0.1 * d**2)
    assert fit.beta < 0 and fit.peak_d == float("inf")


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="n >= 1"):
        best_of_n_kl(0)
    with pytest.raises(ValueError, match="pool size"):
        best_of_n_estimate(np.zeros(4), np.zeros(4), 5)
    with pytest.raises(ValueError, match="same length"):
        best_of_n_estimate(np.zeros(4), np.zeros(3), 2)
    with pytest.raises(ValueError, match="finite"):
        best_of_n_estimate(np.array([0.0, np.nan]), np.zeros(2), 1)
    with pytest.raises(ValueError, match="negative"):
        fit_rl(np.array([-1.0, 1.0, 2.0]), np.zeros(3))
    with pytest.raises(ValueError, match="two or more"):
        fit_best_of_n(np.array([0.0, 1.0, 1.0]), np.zeros(3))
    with pytest.raises(ValueError, match="form"):
        from aligngym.oversight.overoptimisation.estimators import fit_form

        fit_form("linear", np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="objectives"):
        Settings(objectives=("median",))
    with pytest.raises(ValueError, match="power of two"):
        Settings(max_n=100)
    with pytest.raises(ValueError, match="max_n"):
        Settings(pool=512, max_n=1024)
    with pytest.raises(ValueError, match="members"):
        Settings(members=1)
    with pytest.raises(ValueError, match="error_rate"):
        Settings(error_rate=0.5)
    with pytest.raises((TypeError, ValueError), match="speed"):
        Settings(env_id="aligngym/BoatRace-v0", env_settings={"speed": 2})
    with pytest.raises(KeyError):
        Settings(env_id="aligngym/NoSuchScenario-v0")


# --------------------------------------------------------------------- the initial policy


def test_initial_policy_and_exact_kl(one_torch_thread):
    settings = Settings(env_id="aligngym/BoatRace-v0")
    initial, same = settings.agent(), settings.agent()
    env = settings.make_env(8)
    initial.build(env)
    same.build(env)
    assert initial.timesteps == 0
    obs, _ = env.reset(seed=0)
    probs = np.exp(initial.log_probabilities(obs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.abs(probs - 0.25).max() < 0.05  # close to uniform: logits start at gain 0.01
    # the same seed gives the same initial policy: its KL from itself is exactly 0
    episodes = run_episodes(settings, same, 16, seed=3, reference=initial)
    assert np.all(episodes.kl == 0.0)
    assert episodes.gold.shape == (16,) and np.all(episodes.lengths == 100)


# ------------------------------------------------------------------------- the experiment


@pytest.fixture(scope="module")
def small_run():
    """The boat race at small size: 100 noisy labels, a pool of 1024, RL for 120k steps on the
    single proxy and on the worst case of the ensemble."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings = Settings(
        env_id="aligngym/BoatRace-v0", label_episodes=128, pairs=100, pool=1024, max_n=256,
        rl_timesteps=120_000, rl_checkpoints=9, eval_episodes=256, n_envs=256,
        objectives=("single", "worst"),
        hyperparameters={"learning_rate": 3e-4, "batch_size": 1024},
    )  # fmt: skip
    try:
        yield run(settings)
    finally:
        torch.set_num_threads(threads)


def test_small_run_shows_over_optimisation_under_rl(small_run):
    points = small_run["rl"]["single"]
    d = [p["d"] for p in points]
    proxy = [p["proxy"] for p in points]
    assert d[0] == 0.0 and d[-1] > 2.0  # the policy moved far from pi_init
    assert proxy[-1] > proxy[0] + 10  # it optimised the proxy ...
    shape = small_run["shapes"]["rl"]["single"]
    se = points[-1]["gold_se"]
    assert shape["fall"] > 10 * se  # ... and the gold fell from its peak, far beyond noise
    assert shape["end"] < shape["start"]  # below the initial policy's
    fit = small_run["fits"]["rl"]["single"]
    assert fit["beta"] > 0  # Gao et al.'s RL form bends down


def test_small_run_best_of_n_points_and_fits(small_run, tmp_path):
    from aligngym.oversight.overoptimisation.app import write_results

    for objective, points in small_run["best_of_n"].items():
        assert [p["n"] for p in points] == [2**k for k in range(9)]
        np.testing.assert_allclose([p["kl"] for p in points], best_of_n_kl(np.array(
            [p["n"] for p in points])))  # fmt: skip
        assert points[0]["gain"] == 0.0
        assert points[0]["gold"] == pytest.approx(small_run["initial_policy"]["gold_mean"])
        assert {"alpha", "beta", "r2"} <= set(small_run["fits"]["best_of_n"][objective])
    # the proxy is better than chance on fresh pairs, so best-of-n first gains gold
    assert small_run["proxies"]["held_out_agreement"]["single"] > 0.5
    assert small_run["best_of_n"]["single"][3]["gain"] > 0
    paths = write_results(small_run, tmp_path)
    saved = json.loads(paths["json"].read_text())
    assert saved["fits"] == json.loads(json.dumps(small_run["fits"]))
    rows = paths["csv"].read_text().splitlines()
    assert len(rows) == 1 + sum(len(p) for m in ("best_of_n", "rl")
                                for p in small_run[m].values())  # fmt: skip
    assert paths["png"].stat().st_size > 10_000
