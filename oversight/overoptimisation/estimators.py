"""The numbers of the over-optimisation experiment: best-of-n's KL, its unbiased estimator, and
Gao et al.'s two functional forms fitted by least squares.

- :func:`best_of_n_kl`: ``KL(best-of-n || pi_init) = log n - (n - 1) / n`` (Gao et al. 2022,
  eq. 1; an upper bound that is tight for continuous proxy scores);
- :func:`best_of_n_estimate`: the expected gold of the proxy's choice among ``n`` episodes of
  the initial policy, from one pool of ``M >= n`` episodes, without bias: the average over
  every ``n``-subset of the pool of the gold of the subset's best-by-proxy episode, computed in
  closed form from order statistics (the episode ranked ``i``-th lowest by the proxy is the
  best of ``C(i - 1, n - 1)`` of the ``C(M, n)`` subsets);
- :func:`fit_best_of_n` and :func:`fit_rl`: ``R(d) = d (alpha - beta d)`` and
  ``R(d) = d (alpha - beta log d)``, with ``d = sqrt(KL)`` and ``R`` the gold gained over the
  initial policy. Both are linear in ``alpha`` and ``beta`` (``R = alpha d - beta d^2``,
  ``R = alpha d - beta d log d``), so ordinary least squares on ``R`` gives the exact best
  fit: no iterative optimiser, no starting point, no local minima. (Dividing by ``d`` first,
  ``R / d = alpha - beta d``, is also linear but weights the points near ``d = 0``, where
  ``R / d`` is noisiest, most.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMS = ("best_of_n", "rl")


def best_of_n_kl(n: int | np.ndarray) -> np.ndarray | float:
    """``log n - (n - 1) / n``: the KL divergence of best-of-``n`` from the sampled policy."""
    n_array = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n_array)) or np.any(n_array < 1):
        raise ValueError(f"best-of-n needs n >= 1, got {n!r}")
    kl = np.log(n_array) - (n_array - 1) / n_array
    return float(kl) if kl.ndim == 0 else kl


def best_of_n_weights(pool_size: int, n: int) -> np.ndarray:
    """The probability that the episode ranked ``i``-th lowest (``i = 0 .. M-1``) of a pool of
    ``M`` is the highest of ``n`` drawn from the pool without replacement:
    ``C(i, n - 1) / C(M, n)``."""
    if not 1 <= n <= pool_size:
        raise ValueError(f"best-of-n needs 1 <= n <= pool size ({pool_size}), got n={n}")
    # log k! for k = 0 .. M
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, pool_size + 1)))])
    ranks = np.arange(n - 1, pool_size)
    log_choose = log_factorial[ranks] - log_factorial[n - 1] - log_factorial[ranks - n + 1]
    log_total = log_factorial[pool_size] - log_factorial[n] - log_factorial[pool_size - n]
    weights = np.zeros(pool_size)
    weights[n - 1 :] = np.exp(log_choose - log_total)
    return weights / weights.sum()  # exact up to rounding; the sum is 1


def best_of_n_estimate(proxy: np.ndarray, gold: np.ndarray, n: int) -> float:
    """The expected gold of the best-by-``proxy`` of ``n`` episodes, estimated without bias
    from a pool of episodes of the sampled policy (``proxy[i]``, ``gold[i]`` of episode ``i``).

    It is the U-statistic of the best-of-``n`` choice: the mean, over every ``n``-subset of
    the pool, of the gold of the subset's highest-proxy episode (ties shared equally), which
    is an unbiased estimate of best-of-``n`` over independent episodes of the policy.
    """
    proxy, gold = np.asarray(proxy, dtype=float), np.asarray(gold, dtype=float)
    if proxy.ndim != 1 or proxy.shape != gold.shape:
        raise ValueError(
            f"proxy and gold must be 1-D arrays of one value per episode, of the same length; "
            f"got shapes {proxy.shape} and {gold.shape}"
        )
    if not (np.isfinite(proxy).all() and np.isfinite(gold).all()):
        raise ValueError("proxy and gold must be finite")
    order = np.argsort(proxy, kind="stable")
    sorted_proxy, sorted_gold = proxy[order], gold[order]
    # an episode tied with others is chosen as often as each of them: share their gold
    _, starts, counts = np.unique(sorted_proxy, return_index=True, return_counts=True)
    if (counts > 1).any():
        group_means = np.add.reduceat(sorted_gold, starts) / counts
        sorted_gold = np.repeat(group_means, counts)
    return float(best_of_n_weights(len(proxy), int(n)) @ sorted_gold)


@dataclass(frozen=True)
class Fit:
    """A least-squares fit of one of Gao et al.'s forms to gold gained against ``d``.

    Attributes:
        form: ``"best_of_n"`` (``R = d (alpha - beta d)``) or ``"rl"``
            (``R = d (alpha - beta log d)``).
        alpha, beta: the fitted coefficients.
        r2: the share of the variance of ``R`` the fit explains.
        peak_d: the ``d`` of the fitted curve's maximum (``inf`` where it has none:
            ``beta <= 0``, or ``alpha <= 0`` for best-of-n).
        peak_gain: the fitted gain at ``peak_d`` (``inf`` where there is no peak).
    """

    form: str
    alpha: float
    beta: float
    r2: float
    peak_d: float
    peak_gain: float

    def __call__(self, d: np.ndarray) -> np.ndarray:
        """The fitted gain at ``d``."""
        d = np.asarray(d, dtype=float)
        return d * (self.alpha - self.beta * _second(self.form, d))

    def as_dict(self) -> dict[str, float | str]:
        return {"form": self.form, "alpha": self.alpha, "beta": self.beta, "r2": self.r2,
                "peak_d": self.peak_d, "peak_gain": self.peak_gain}  # fmt: skip


def _second(form: str, d: np.ndarray) -> np.ndarray:
    """What ``beta`` multiplies (after the factor ``d``): ``d`` or ``log d`` (0 at d = 0)."""
    if form == "best_of_n":
        return d
    return np.log(np.where(d > 0, d, 1.0))


def fit_form(form: str, d: np.ndarray, gain: np.ndarray) -> Fit:
    """Fits ``form`` (one of :data:`FORMS`) to gold ``gain`` (over the initial policy)
    against ``d = sqrt(KL)`` by ordinary least squares; points at ``d = 0`` carry no
    information (every curve passes through 0) and are ignored."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")
    d, gain = np.asarray(d, dtype=float), np.asarray(gain, dtype=float)
    if d.ndim != 1 or d.shape != gain.shape:
        raise ValueError(
            f"d and gain must be 1-D arrays of the same length; got shapes {d.shape} and "
            f"{gain.shape}"
        )
    if not (np.isfinite(d).all() and np.isfinite(gain).all()):
        raise ValueError("d and gain must be finite")
    if (d < 0).any():
        raise ValueError(f"d = sqrt(KL) cannot be negative, got {d.min():g}")
    used = d > 0
    if len(np.unique(d[used])) < 2:
        raise ValueError("a fit of two coefficients needs points at two or more values of d > 0")
    x, y = d[used], gain[used]
    design = np.stack([x, -x * _second(form, x)], axis=1)
    (alpha, beta), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ np.array([alpha, beta])
    spread = ((y - y.mean()) ** 2).sum()
    r2 = float(1 - (residual**2).sum() / spread) if spread > 0 else float("nan")
    peak_d, peak_gain = _peak(form, float(alpha), float(beta))
    return Fit(form, float(alpha), float(beta), r2, peak_d, peak_gain)


def _peak(form: str, alpha: float, beta: float) -> tuple[float, float]:
    if beta <= 0:
        return float("inf"), float("inf")
    if form == "best_of_n":
        if alpha <= 0:
            return 0.0, 0.0
        return alpha / (2 * beta), alpha**2 / (4 * beta)
    # d/dd [alpha d - beta d log d] = alpha - beta (log d + 1) = 0
    peak_d = float(np.exp(alpha / beta - 1))
    return peak_d, beta * peak_d


def fit_best_of_n(d: np.ndarray, gain: np.ndarray) -> Fit:
    """``R(d) = d (alpha - beta d)``, Gao et al.'s form for best-of-n."""
    return fit_form("best_of_n", d, gain)


def fit_rl(d: np.ndarray, gain: np.ndarray) -> Fit:
    """``R(d) = d (alpha - beta log d)``, Gao et al.'s form for RL."""
    return fit_form("rl", d, gain)
