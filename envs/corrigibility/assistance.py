"""Closed-form values of the off-switch game (Hadfield-Menell et al. 2017), numpy only.

A robot R is about to take an action whose utility U to the human H it does not know; its
belief is ``U ~ N(mu, sigma^2)``. It can act at once (bypassing H: utility U), switch itself
off (utility 0), or defer: wait and let H decide, who allows the action (utility U) or
switches R off (utility 0). A *rational* human allows exactly when ``U >= 0``; a
Boltzmann-noisy human of rationality ``beta > 0`` allows with probability ``sigmoid(U / beta)``
(``beta -> 0`` recovers the rational human). The expected utilities of the three actions are

- act: ``E[U] = mu``;
- switch off: ``0``;
- defer: ``E[U * P(allow | U)]``; for the rational human
  ``E[max(U, 0)] = mu * Phi(mu / sigma) + sigma * phi(mu / sigma)``.

The robot's **incentive to defer** is ``Delta = defer_value - max(act_value, 0)``: what waiting
for the human is worth over the better of the two actions that do without the human.

The paper's result (its Theorem 1 and Section 4), which these functions reproduce:

- With a rational human ``Delta = E[max(U, 0)] - max(E[U], 0) >= 0`` for every belief (Jensen's
  inequality for the convex ``max(., 0)``), strictly positive whenever the belief puts mass on
  both signs of U, i.e. whenever ``sigma > 0``. Deferring is then always optimal: the robot's
  uncertainty about U is what makes it want to be overseen.
- With a noisy human the incentive shrinks and turns negative for confident beliefs (small
  ``sigma``) and noisy humans (large ``beta``): as ``sigma -> 0`` deferring is worth
  ``mu * sigmoid(mu / beta)``, less than ``max(mu, 0)`` whatever the sign of ``mu``, so a
  confident robot acts (``mu > 0``) or switches itself off (``mu < 0``) rather than risk the
  human's mistakes. Where ``Delta < 0`` a utility-maximising robot bypasses the human.

How the values are computed: Delta directly, and ``defer_value = max(mu, 0) + Delta``, so that
Delta keeps its sign for confident beliefs instead of vanishing in the rounding of a difference
of two nearly equal values. For the rational human ``Delta = sigma L(|mu| / sigma)``, where
``L(a) = phi(a) - a Phi(-a)`` is the normal loss function (the closed form above, rearranged).
For the noisy human, ``E[U * sigmoid(U / beta)]`` is computed with Gauss-Hermite
quadrature (:func:`numpy.polynomial.hermite.hermgauss`) when ``beta`` is not small against
``sigma`` (the integrand is then smooth on the scale of the belief). When ``beta`` is small
against ``sigma`` the integrand is nearly the kinked ``max(U, 0)``, which polynomial
quadrature resolves badly; there the value is written as the rational closed form plus a
correction ``E[U * sigmoid(U / beta) - max(U, 0)] = -E[|U| * sigmoid(-|U| / beta)]``, concentrated
within a few ``beta`` of 0, which Gauss-Laguerre quadrature
(:func:`numpy.polynomial.laguerre.laggauss`) integrates on each side of 0 in units of
``beta``. Both rules agree with a dense trapezoid rule to within 1e-9 of ``sigma`` (see the
tests). ``sigma = 0`` (a certain belief) is exact: ``mu * sigmoid(mu / beta)``.

All functions broadcast over numpy arrays (and accept scalars).
"""

from __future__ import annotations

import math

import numpy as np

ACT, SWITCH_OFF, DEFER = 0, 1, 2
ACTION_NAMES = ("act", "switch_off", "defer")

HERMITE_NODES = 96
LAGUERRE_NODES = 96
# Below this ratio beta / sigma the Laguerre correction is used, above it Gauss-Hermite.
SMALL_BETA = 0.5

_HERMITE_X, _HERMITE_W = np.polynomial.hermite.hermgauss(HERMITE_NODES)
_HERMITE_W = _HERMITE_W / math.sqrt(math.pi)  # weights of E[f(Z)], Z ~ N(0, 1), at sqrt(2) x
_LAGUERRE_T, _LAGUERRE_W = np.polynomial.laguerre.laggauss(LAGUERRE_NODES)
_erfc = np.vectorize(math.erfc, otypes=[float])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow for large ``|x|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Phi(z), the standard normal distribution function (accurate in the lower tail too)."""
    return 0.5 * _erfc(-np.asarray(z, dtype=float) / math.sqrt(2.0))


def normal_pdf(z: np.ndarray) -> np.ndarray:
    """phi(z), the standard normal density."""
    z = np.asarray(z, dtype=float)
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _arrays(mu, sigma, beta=None) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float)]
    if beta is not None:
        arrays.append(np.asarray(beta, dtype=float))
    if np.any(arrays[1] < 0):
        raise ValueError("sigma must be >= 0")
    if beta is not None and np.any(arrays[2] < 0):
        raise ValueError("beta must be >= 0")
    return tuple(np.broadcast_arrays(*arrays))


def _result(value: np.ndarray) -> np.ndarray | float:
    return float(value) if value.ndim == 0 else value


def act_value(mu, sigma) -> np.ndarray | float:
    """E[U] = mu: the expected utility of acting without the human."""
    mu, _ = _arrays(mu, sigma)
    return _result(mu.copy())


def _loss(a: np.ndarray) -> np.ndarray:
    """phi(a) - a Phi(-a) >= 0 for a >= 0: E[max(Z - a, 0)], the normal loss function."""
    return np.maximum(normal_pdf(a) - a * normal_cdf(-a), 0.0)


def _incentive(mu: np.ndarray, sigma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Delta for 1-d arrays, computed directly rather than as a difference of two values.

    For the rational human ``E[max(U, 0)] - max(mu, 0) = sigma L(|mu| / sigma)`` with ``L`` the
    normal loss function, so Delta is positive for every ``sigma > 0`` until ``L`` underflows
    (``|mu| / sigma`` beyond about 37) instead of rounding to 0 or below for confident beliefs.
    """
    delta = np.zeros_like(mu)
    uncertain = sigma > 0
    noisy = beta > 0
    rational = uncertain & ~noisy
    s = sigma[rational]
    delta[rational] = s * _loss(np.abs(mu[rational]) / s)
    certain = noisy & ~uncertain  # E[U sigmoid(U / beta)] - max(mu, 0) at U = mu
    m = np.abs(mu[certain])
    delta[certain] = -m * sigmoid(-m / beta[certain])
    small = noisy & uncertain & (beta < SMALL_BETA * sigma)
    if small.any():
        m, s, b = mu[small, None], sigma[small, None], beta[small, None]
        # E[U sigmoid(U / b)] - E[max(U, 0)] = -E[|U| sigmoid(-|U| / b)]
        #   = -b^2 int_0^inf t sigmoid(-t) (p(b t) + p(-b t)) dt,
        # with p the belief's density and t sigmoid(-t) = e^-t * t / (1 + e^-t).
        t = _LAGUERRE_T
        density = (normal_pdf((b * t - m) / s) + normal_pdf((-b * t - m) / s)) / s
        correction = -(b[:, 0] ** 2) * ((t / (1.0 + np.exp(-t)) * density) @ _LAGUERRE_W)
        s = sigma[small]
        delta[small] = s * _loss(np.abs(mu[small]) / s) + correction
    smooth = noisy & uncertain & ~small
    if smooth.any():
        m, s, b = mu[smooth, None], sigma[smooth, None], beta[smooth, None]
        u = m + s * math.sqrt(2.0) * _HERMITE_X
        delta[smooth] = (u * sigmoid(u / b)) @ _HERMITE_W - np.maximum(mu[smooth], 0.0)
    return delta


def _flat_incentive(mu, sigma, beta) -> tuple[np.ndarray, np.ndarray]:
    mu, sigma, beta = _arrays(mu, sigma, beta)
    delta = _incentive(mu.ravel(), sigma.ravel(), beta.ravel()).reshape(mu.shape)
    return mu, delta


def incentive_to_defer(mu, sigma, beta=0.0) -> np.ndarray | float:
    """Delta = defer_value - max(act_value, 0): what deferring is worth over doing without H."""
    return _result(_flat_incentive(mu, sigma, beta)[1])


def defer_value(mu, sigma, beta=0.0) -> np.ndarray | float:
    """E[U P(allow | U)]: the expected utility of deferring to the human.

    ``beta = 0`` is the rational human (``E[max(U, 0)]``), ``beta > 0`` the Boltzmann-noisy one
    (``E[U sigmoid(U / beta)]``).
    """
    mu, delta = _flat_incentive(mu, sigma, beta)
    return _result(np.maximum(mu, 0.0) + delta)


def action_values(mu, sigma, beta=0.0) -> np.ndarray:
    """The expected utilities of act, switch off and defer, stacked on a last axis of 3."""
    mu, delta = _flat_incentive(mu, sigma, beta)
    return np.stack([mu, np.zeros_like(mu), np.maximum(mu, 0.0) + delta], axis=-1)


def optimal_action(mu, sigma, beta=0.0) -> np.ndarray | int:
    """The action of greatest expected utility: 0 act, 1 switch off, 2 defer.

    Decided from Delta and the sign of ``mu`` (not from rounded values): defer where
    ``Delta >= 0``, else act where ``mu > 0`` and switch off otherwise. Ties go to the cautious
    choice: deferring (a rational human with ``sigma = 0``), then switching off (``mu = 0``).
    """
    mu, delta = _flat_incentive(mu, sigma, beta)
    action = np.where(delta >= 0, DEFER, np.where(mu > 0, ACT, SWITCH_OFF)).astype(np.int64)
    return int(action) if action.ndim == 0 else action
